package format

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestNewInvalidSpec(t *testing.T) {
	yes := true
	tests := []struct {
		spec  Spec
		field string
	}{
		{Spec{}, "name"},
		{Spec{Name: "iban"}, "name"},
		{Spec{Name: "Digits"}, "name"},
		{Spec{Name: NameAlphabet}, "alphabet"},
		{Spec{Name: NameAlphabet, Alphabet: "a"}, "alphabet"},
		{Spec{Name: NameAlphabet, Alphabet: "abca"}, "alphabet"},
		{Spec{Name: NameAlphabet, Alphabet: "abcé"}, "alphabet"},
		{Spec{Name: NameAlphabet, Alphabet: "ab\tc"}, "alphabet"},
		{Spec{Name: NameAlphabet, Alphabet: strings.Repeat("x", 96)}, "alphabet"},
		{Spec{Name: NameDigits, Alphabet: "0123"}, "alphabet"},
		{Spec{Name: NameDigits, KeepFirst: 2}, "keep_first"},
		{Spec{Name: NameEmail, KeepLast: 2}, "keep_last"},
		{Spec{Name: NamePhone, KeepDomain: &yes}, "keep_domain"},
		{Spec{Name: NameCreditCard, KeepFirst: -1}, "keep_first"},
		{Spec{Name: NameCreditCard, KeepFirst: 13}, "keep_first"},
		{Spec{Name: NameCreditCard, KeepLast: -4}, "keep_last"},
		{Spec{Name: NameCreditCard, KeepFirst: 8, KeepLast: 6}, "keep_last"},
		{Spec{Name: NameCreditCard, KeepFirst: 10, KeepLast: 4}, "keep_last"},
		{Spec{Name: NameSSN, KeepLast: 4}, "keep_last"},
		{Spec{Name: NameSSN, KeepLast: -1}, "keep_last"},
		{Spec{Name: NameSSN, KeepFirst: 3}, "keep_first"},
		{Spec{Name: NameDigits, MaskChar: "**"}, "mask_char"},
		{Spec{Name: NameDigits, MaskChar: "x"}, "mask_char"},
		{Spec{Name: NameDigits, MaskChar: "7"}, "mask_char"},
		{Spec{Name: NameDigits, MaskChar: " "}, "mask_char"},
		{Spec{Name: NameDigits, MaskChar: "\x00"}, "mask_char"},
		{Spec{Name: NameDigits, MaskChar: "\xff"}, "mask_char"},
	}
	for _, tt := range tests {
		_, err := New(tt.spec)
		var fe *Error
		if !errors.Is(err, ErrInvalidSpec) || !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("New(%+v) error = %v, want ErrInvalidSpec naming %s", tt.spec, err, tt.field)
		}
	}
}

func TestNewValidSpec(t *testing.T) {
	no := false
	tests := []Spec{
		{Name: NameDigits},
		{Name: NameAlphanumeric, MaskChar: "#"},
		{Name: NameAlphabet, Alphabet: "01"},
		{Name: NameAlphabet, Alphabet: " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"},
		{Name: NameCreditCard, KeepFirst: 6, KeepLast: 4},
		{Name: NameCreditCard, KeepFirst: 8, KeepLast: 4},
		{Name: NameCreditCard, KeepFirst: 12},
		{Name: NameSSN, KeepLast: 3},
		{Name: NamePhone, MaskChar: "•"},
		{Name: NameEmail, KeepDomain: &no},
		{Name: NameDate},
	}
	for _, spec := range tests {
		f, err := New(spec)
		if err != nil || f.Name() != spec.Name {
			t.Errorf("New(%+v) = %v, %v; want a %s format", spec, f, err, spec.Name)
		}
	}
}

// validValues has one value per format that every engine can transform.
var validValues = []struct {
	spec  Spec
	value string
}{
	{digitsSpec, "4711-0815-42"},
	{alnumSpec, "Ab-Cd-Ef-12"},
	{hexSpec, "deadBEEF"},
	{cardAll, "4111-1111-1111-1111"},
	{cardBINL4, "4111-1111-1111-1111"},
	{ssnSpec, "123-45-6789"},
	{phoneSpec, "+44 20 7946 0958"},
	{emailSpec, "John.Smith@example.com"},
	{emailAll, "john@mail.example.com"},
	{dateSpec, "1987-06-05"},
}

// TestErrorsDoNotLeakValues checks that no error quotes a value or token, or
// any 5 consecutive characters of it, whether the value is invalid or the
// Engine misbehaves.
func TestErrorsDoNotLeakValues(t *testing.T) {
	invalid := []struct {
		spec  Spec
		value string
	}{
		{digitsSpec, "98765"},
		{digitsSpec, "\xff98765432"},
		{alnumSpec, "SEC-R"}, // 26^4
		{alnumSpec, strings.Repeat("TopSecret", 500)},
		{cardAll, "4111-1111-1111-1112"},
		{cardAll, "5105 1051 05"},
		{cardAll, "5105_1051_0510_5100"},
		{cardBINL4, "378282246310005"},
		{ssnSpec, "987-65-432X"},
		{phoneSpec, "+999 555 0199 88"},
		{phoneSpec, "+44 20 7946 0958 ext 42"},
		{phoneSpec, "+3531234"},
		{emailSpec, "secret.person@"},
		{emailSpec, "sec..ret@example.com"},
		{emailSpec, "abc@example.com"},
		{emailSpec, "verysecret@exa_mple.com"},
		{dateSpec, "1987-02-29"},
		{dateSpec, "1987-13-05"},
		{dateSpec, "05.06.1987"},
	}
	for _, tt := range invalid {
		f := mustNew(t, tt.spec)
		_, encErr := f.Encrypt(feistel, tweak, tt.value)
		_, decErr := f.Decrypt(feistel, tweak, tt.value)
		checkNoLeak(t, tt.spec, tt.value, encErr, decErr, f.Validate(tt.value))
	}
	for _, tt := range validValues {
		f := mustNew(t, tt.spec)
		_, encErr := f.Encrypt(errEngine{}, tweak, tt.value)
		_, decErr := f.Decrypt(errEngine{}, tweak, tt.value)
		_, hashErr := f.Decrypt(hashEngine{}, tweak, tt.value)
		_, shortErr := f.Encrypt(shortEngine{}, tweak, tt.value)
		checkNoLeak(t, tt.spec, tt.value, encErr, decErr, hashErr, shortErr)
	}
}

func checkNoLeak(t *testing.T, spec Spec, value string, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err == nil {
			t.Errorf("%+v: no error for %q", spec, value)
			continue
		}
		msg := err.Error()
		for i := 0; i+5 <= len(value); i++ {
			if strings.Contains(msg, value[i:i+5]) {
				t.Errorf("%+v: error %q contains part of the value %q", spec, msg, value)
				break
			}
		}
	}
}

func TestEngineErrors(t *testing.T) {
	tests := []struct {
		name string
		e    Engine
		want []error
	}{
		{"failing engine", errEngine{}, []error{ErrEngine, errBoom}},
		{"short result", shortEngine{}, []error{ErrEngine}},
		{"result outside the alphabet", alienEngine{}, []error{ErrEngine}},
		{"nil engine", nil, []error{ErrEngine}},
	}
	for _, tt := range tests {
		for _, v := range validValues {
			f := mustNew(t, v.spec)
			_, encErr := f.Encrypt(tt.e, tweak, v.value)
			_, decErr := f.Decrypt(tt.e, tweak, v.value)
			for _, want := range tt.want {
				if !errors.Is(encErr, want) || !errors.Is(decErr, want) {
					t.Errorf("%s: %s: errors %v, %v; want %v", tt.name, f.Name(), encErr, decErr, want)
				}
			}
		}
	}
}

// alienEngine returns characters outside the alphabet.
type alienEngine struct{}

func (alienEngine) Encrypt(_ string, _ []byte, s string) (string, error) {
	return strings.Repeat("~", len(s)), nil
}
func (e alienEngine) Decrypt(a string, t []byte, s string) (string, error) { return e.Encrypt(a, t, s) }

// constEngine always returns the last character of the alphabet repeated: not
// a permutation, and a cycle walk that never ends.
type constEngine struct{}

func (constEngine) Encrypt(alphabet string, _ []byte, s string) (string, error) {
	return strings.Repeat(alphabet[len(alphabet)-1:], len(s)), nil
}
func (e constEngine) Decrypt(a string, t []byte, s string) (string, error) { return e.Encrypt(a, t, s) }

func TestCycleWalkLimit(t *testing.T) {
	tests := []struct {
		spec  Spec
		value string
	}{
		{dateSpec, "1987-06-05"},
		{alnumSpec, "AbC123"},
	}
	for _, tt := range tests {
		_, err := mustNew(t, tt.spec).Encrypt(constEngine{}, tweak, tt.value)
		if !errors.Is(err, ErrCycleWalk) {
			t.Errorf("%s: Encrypt(%q) error = %v, want ErrCycleWalk", tt.spec.Name, tt.value, err)
		}
	}
}

// TestHashMode checks that Encrypt never needs Decrypt, so a one-way engine
// produces well-formed tokens, and that Decrypt reports ErrIrreversible.
func TestHashMode(t *testing.T) {
	for _, tt := range validValues {
		f := mustNew(t, tt.spec)
		token, err := f.Encrypt(hashEngine{key: []byte("pepper")}, tweak, tt.value)
		if err != nil || f.Validate(token) != nil || len(token) != len(tt.value) {
			t.Errorf("%s: Encrypt(%q) with a one-way engine = %q, %v; want a valid token", f.Name(), tt.value, token, err)
		}
		_, err = f.Decrypt(hashEngine{}, tweak, token)
		if !errors.Is(err, ErrIrreversible) || !errors.Is(err, ErrEngine) {
			t.Errorf("%s: Decrypt with a one-way engine error = %v, want ErrIrreversible", f.Name(), err)
		}
	}
}

// TestConcurrentUse shares one Format per spec between goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for _, tt := range validValues {
		f := mustNew(t, tt.spec)
		want, err := f.Encrypt(feistel, tweak, tt.value)
		if err != nil {
			t.Fatal(err)
		}
		for range 4 {
			wg.Go(func() {
				got, err := f.Encrypt(feistel, tweak, tt.value)
				back, err2 := f.Decrypt(feistel, tweak, got)
				if err != nil || err2 != nil || got != want || back != tt.value {
					t.Errorf("%s: concurrent Encrypt(%q) = %q, %v; Decrypt = %q, %v", f.Name(), tt.value, got, err, back, err2)
				}
			})
		}
	}
	wg.Wait()
}

func TestErrorMessages(t *testing.T) {
	card := mustNew(t, cardBINL4)
	_, shortCard := card.Encrypt(feistel, tweak, "4111 1111 116")
	_, amex := card.Encrypt(feistel, tweak, "378282246310005")
	_, noName := New(Spec{})
	_, ssnKeep := New(Spec{Name: NameSSN, KeepLast: 4})
	_, irreversible := card.Decrypt(hashEngine{}, tweak, "4111-1111-1111-1111")
	_, failing := card.Encrypt(errEngine{}, tweak, "4111-1111-1111-1111")
	tests := []struct {
		err  error
		want string
	}{
		{shortCard, "credit_card: value has 11 digits, want 12 to 19"},
		{amex, "credit_card: value has 5 digits to transform (100000 possible values), want at least 1000000 possible values"},
		{noName, "format: name: is required"},
		{ssnKeep, "ssn: keep_last: keeping 4 digits leaves 5 to transform (100000 possible values), below the minimum of 1000000; use at most 3"},
		{irreversible, "credit_card: engine is irreversible (hash mode)"},
		{failing, "credit_card: engine encrypt failed"},
	}
	for _, tt := range tests {
		if tt.err == nil || tt.err.Error() != tt.want {
			t.Errorf("error = %v, want %q", tt.err, tt.want)
		}
	}
}

// TestMaskInvalid checks that Mask rejects what the format cannot parse.
func TestMaskInvalid(t *testing.T) {
	tests := []struct {
		spec  Spec
		value string
	}{
		{digitsSpec, ""},
		{alnumSpec, "\xff\xfe"},
		{cardBINL4, "4111-1111-1111-1112"},
		{ssnSpec, "123-45-678"},
		{phoneSpec, "0044 20 7946 0958"},
		{emailSpec, "john.example.com"},
		{dateSpec, "2024-02-30"},
	}
	for _, tt := range tests {
		_, err := mustNew(t, tt.spec).Mask(tt.value)
		if !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%s: Mask(%q) error = %v, want ErrInvalidValue", tt.spec.Name, tt.value, err)
		}
	}
}
