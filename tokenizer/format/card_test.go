package format

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

var (
	cardAll    = Spec{Name: NameCreditCard}
	cardBIN    = Spec{Name: NameCreditCard, KeepFirst: 6}
	cardLast4  = Spec{Name: NameCreditCard, KeepLast: 4}
	cardBINL4  = Spec{Name: NameCreditCard, KeepFirst: 6, KeepLast: 4}
	cardSpecs  = []Spec{cardAll, cardBIN, cardLast4, cardBINL4, {Name: NameCreditCard, KeepFirst: 2, KeepLast: 7}}
	cardEngine = []Engine{shift, feistel, identityEngine{}}
)

func TestCardEncrypt(t *testing.T) {
	tests := []struct {
		spec         Spec
		e            Engine
		value, token string
	}{
		// With the identity engine every middle is a fixed point, so the token
		// is the next valid number: middle+1 with a new check digit…
		{cardAll, identityEngine{}, "4111-1111-1111-1111", "4111-1111-1111-1129"},
		{cardAll, identityEngine{}, "5555555555554444", "5555555555554451"},
		// …or, with the check digit kept, the next middle that passes Luhn.
		{cardBINL4, identityEngine{}, "4111-1111-1111-1111", "4111-1111-1129-1111"},
		{cardBINL4, identityEngine{}, "5555555555554444", "5555555555634444"},
		{cardLast4, identityEngine{}, "4111-1111-1111-1111", "4111-1111-1129-1111"},
		{cardBINL4, feistel, "4111-1111-1111-1111", "4111-1187-7372-1111"},
		{cardBINL4, feistel, "5555 5555 5555 4444", "5555 5564 0993 4444"},
		{cardBINL4, feistel, "6011000990139424", "6011000155559424"},
		{cardBINL4, feistel, "3530111333300000", "3530115613400000"},
		{cardBINL4, feistel, "4000056655665556", "4000054762125556"},
		{cardAll, feistel, "378282246310005", "472366913978916"},
		{cardAll, feistel, "6011 0009 9013 9424", "3786 7553 5403 0804"},
		{cardAll, feistel, "4222222222222", "4735971678104"},
		{cardBIN, feistel, "4111-1111-1111-1111", "4111-1103-6616-3629"},
		{cardBIN, feistel, "4000056655665556", "4000059572170312"},
		{cardAll, shift, "4111111111111111", "5093654709825435"},
	}
	for _, tt := range tests {
		f := mustNew(t, tt.spec)
		got, err := f.Encrypt(tt.e, tweak, tt.value)
		if err != nil || got != tt.token {
			t.Errorf("%+v: Encrypt(%q) = %q, %v; want %q", tt.spec, tt.value, got, err, tt.token)
		}
		back, err := f.Decrypt(tt.e, tweak, tt.token)
		if err != nil || back != tt.value {
			t.Errorf("%+v: Decrypt(%q) = %q, %v; want %q", tt.spec, tt.token, back, err, tt.value)
		}
	}
}

func TestCardMask(t *testing.T) {
	tests := []struct {
		spec          Spec
		value, masked string
	}{
		{cardAll, "4111111111111111", "************1111"},
		{cardAll, "4111-1111-1111-1111", "****-****-****-1111"},
		{cardBINL4, "4111-1111-1111-1111", "4111-11**-****-1111"},
		{cardBIN, "4111 1111 1111 1111", "4111 11** **** 1111"},
		// At least 6 digits stay hidden, so short cards show less of the BIN.
		{cardBINL4, "3782 822463 10005", "3782 8***** *0005"},
		{cardBINL4, "4222222222222", "422******2222"},
		{Spec{Name: NameCreditCard, MaskChar: "#"}, "5555555555554444", "############4444"},
	}
	for _, tt := range tests {
		got, err := mustNew(t, tt.spec).Mask(tt.value)
		if err != nil || got != tt.masked {
			t.Errorf("%+v: Mask(%q) = %q, %v; want %q", tt.spec, tt.value, got, err, tt.masked)
		}
	}
}

func TestCardInvalid(t *testing.T) {
	tests := []struct {
		spec  Spec
		value string
		want  error
	}{
		{cardAll, "4111-1111-1111-1112", ErrInvalidValue},  // Luhn
		{cardAll, "4111 1111 116", ErrInvalidValue},        // 11 digits
		{cardAll, "41111111111111111113", ErrInvalidValue}, // 20 digits
		{cardAll, "4111/1111/1111/1111", ErrInvalidValue},  // separator
		{cardAll, "-4111111111111111", ErrInvalidValue},    // leading separator
		{cardAll, "4111111111111111 ", ErrInvalidValue},    // trailing separator
		{cardAll, "", ErrInvalidValue},                     //
		{cardBINL4, "378282246310005", ErrDomainTooSmall},  // 15 digits: 5 in the middle
		{cardBINL4, "4222222222222", ErrDomainTooSmall},    // 13 digits: 3 in the middle
		{Spec{Name: NameCreditCard, KeepFirst: 7}, "411111111117", ErrDomainTooSmall},
	}
	for _, tt := range tests {
		_, err := mustNew(t, tt.spec).Encrypt(feistel, tweak, tt.value)
		if !errors.Is(err, tt.want) {
			t.Errorf("%+v: Encrypt(%q) error = %v, want %v", tt.spec, tt.value, err, tt.want)
		}
	}
}

// randomCard returns a Luhn-valid card number of minDigits to 19 digits,
// sometimes grouped by 4 with spaces or dashes.
func randomCard(r *rand.Rand, minDigits int) string {
	d := []byte(randString(r, decimal, minDigits-1+r.IntN(cardMaxDigits-minDigits+1)))
	d = append(d, luhnCheckDigit(d))
	sep := []string{"", " ", "-"}[r.IntN(3)]
	var groups []string
	for i := 0; i < len(d); i += 4 {
		groups = append(groups, string(d[i:min(i+4, len(d))]))
	}
	return strings.Join(groups, sep)
}

func digitsOf(s string) []byte {
	var d []byte
	for i := range len(s) {
		if isDigit(s[i]) {
			d = append(d, s[i])
		}
	}
	return d
}

func TestCardRoundTrip(t *testing.T) {
	for _, spec := range cardSpecs {
		f := mustNew(t, spec)
		for _, e := range cardEngine {
			r := newRand()
			// The shortest card that leaves 6 digits to transform.
			shortest := max(cardMinDigits, spec.KeepFirst+max(spec.KeepLast, 1)+cardMinMiddle)
			for range 300 {
				value := randomCard(r, shortest)
				checkCardToken(t, spec, value, roundTrip(t, f, e, value))
			}
		}
	}
}

// checkCardToken checks the properties every card token has.
func checkCardToken(t *testing.T, spec Spec, value, token string) {
	t.Helper()
	vd, td := digitsOf(value), digitsOf(token)
	n := len(vd)
	switch {
	case token == value:
		t.Fatalf("%+v: Encrypt(%q) = the value", spec, value)
	case !luhnValid(td):
		t.Fatalf("%+v: Encrypt(%q) = %q fails Luhn", spec, value, token)
	case !sameOutside(value, token, func(i int) bool { return isDigit(value[i]) }):
		t.Fatalf("%+v: Encrypt(%q) = %q moved a separator", spec, value, token)
	case string(vd[:spec.KeepFirst]) != string(td[:spec.KeepFirst]) ||
		string(vd[n-spec.KeepLast:]) != string(td[n-spec.KeepLast:]):
		t.Fatalf("%+v: Encrypt(%q) = %q changed a kept digit", spec, value, token)
	}
}

// TestCardFixedPoints makes chosen middles fixed points of the engine and
// checks that around them every value still round-trips to a distinct token
// that differs from the value.
func TestCardFixedPoints(t *testing.T) {
	tests := []struct {
		name  string
		spec  Spec
		value string
		fixed []int // offsets, in valid middles, from the value's middle
	}{
		{"value fixed", cardBINL4, "4111-1111-1111-1111", []int{0}},
		{"value starts a run", cardBINL4, "4111-1111-1111-1111", []int{0, 1, 2}},
		{"value ends a run", cardBINL4, "4111-1111-1111-1111", []int{-2, -1, 0}},
		{"value follows a run", cardBINL4, "4111-1111-1111-1111", []int{-3, -2, -1}},
		{"two runs", cardBINL4, "5555555555554444", []int{-4, -3, -1, 0, 2}},
		{"wrap around", cardBINL4, "4111110000001110", []int{-1, 0}}, // middle 000000
		{"value fixed", cardAll, "4111-1111-1111-1111", []int{0}},
		{"value ends a run", cardBIN, "4111-1111-1111-1111", []int{-1, 0}},
		{"value follows a run", cardAll, "4111-1111-1111-1111", []int{-2, -1}},
	}
	for _, tt := range tests {
		f := mustNew(t, tt.spec).(*card)
		d := digitsOf(tt.value)
		lo, hi, err := f.middle(d)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		c, _ := newCipher(NameCreditCard, feistel, tweak, false)
		der := f.derangement(c, d, lo, hi)
		// middles lists the valid middles from 10 before to 10 after the value's.
		middles := map[int]string{0: string(d[lo:hi])}
		for i := 1; i <= 10; i++ {
			middles[i] = der.next(middles[i-1])
			middles[-i] = der.prev(middles[1-i])
		}
		fixed := fixedEngine{inner: feistel, fixed: map[string]bool{}}
		for _, off := range tt.fixed {
			fixed.fixed[middles[off]] = true
		}
		tokens := map[string]bool{}
		for off := -10; off <= 10; off++ {
			v := append(append(append([]byte{}, d[:lo]...), middles[off]...), d[hi:]...)
			if f.keepLast == 0 {
				v[len(v)-1] = luhnCheckDigit(v[:len(v)-1])
			}
			token := roundTrip(t, f, fixed, string(v))
			checkCardToken(t, tt.spec, string(v), token)
			if tokens[token] {
				t.Fatalf("%s: Encrypt(%q) = %q, a token already seen", tt.name, v, token)
			}
			tokens[token] = true
		}
	}
}

func TestLuhn(t *testing.T) {
	tests := []struct {
		number string
		valid  bool
	}{
		{"79927398713", true},
		{"79927398710", false},
		{"4111111111111111", true},
		{"4111111111111112", false},
		{"378282246310005", true},
		{"0", true},
	}
	for _, tt := range tests {
		if got := luhnValid([]byte(tt.number)); got != tt.valid {
			t.Errorf("luhnValid(%q) = %v, want %v", tt.number, got, tt.valid)
		}
	}
	check := luhnCheckDigit([]byte("7992739871"))
	if check != '3' {
		t.Errorf("luhnCheckDigit(%q) = %q, want '3'", "7992739871", check)
	}
}
