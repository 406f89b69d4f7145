package fpe

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	testKey   = mustDecode("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
	testTweak = mustDecode("D8E7920AFA330A73")
)

func mustDecode(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func mustFF1(t *testing.T, key []byte, alphabet string) *FF1 {
	t.Helper()
	c, err := NewFF1(key, alphabet)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustFF31(t *testing.T, key []byte, alphabet string) *FF31 {
	t.Helper()
	c, err := NewFF31(key, alphabet)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConstructorErrors(t *testing.T) {
	many := make([]rune, MaxRadix+1)
	for i := range many {
		many[i] = rune(0x10000 + i)
	}
	tests := []struct {
		name     string
		key      []byte
		alphabet string
		want     error
	}{
		{"nil key", nil, "0123456789", ErrKeySize},
		{"15-byte key", make([]byte, 15), "0123456789", ErrKeySize},
		{"17-byte key", make([]byte, 17), "0123456789", ErrKeySize},
		{"33-byte key", make([]byte, 33), "0123456789", ErrKeySize},
		{"empty alphabet", testKey, "", ErrRadix},
		{"one character", testKey, "0", ErrRadix},
		{"65537 characters", testKey, string(many), ErrRadix},
		{"duplicate ASCII", testKey, "0123456789012", ErrAlphabet},
		{"duplicate pair", testKey, "aa", ErrAlphabet},
		{"duplicate non-ASCII", testKey, "αβγα", ErrAlphabet},
		{"invalid UTF-8", testKey, "01\xff23", ErrAlphabet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewFF1(tt.key, tt.alphabet); !errors.Is(err, tt.want) {
				t.Errorf("NewFF1() error = %v, want %v", err, tt.want)
			}
			if _, err := NewFF31(tt.key, tt.alphabet); !errors.Is(err, tt.want) {
				t.Errorf("NewFF31() error = %v, want %v", err, tt.want)
			}
		})
	}
	for _, radix := range []int{-1, 0, 1, MaxRadix + 1} {
		if _, err := NewFF1Radix(testKey, radix); !errors.Is(err, ErrRadix) {
			t.Errorf("NewFF1Radix(%d) error = %v, want %v", radix, err, ErrRadix)
		}
		if _, err := NewFF31Radix(testKey, radix); !errors.Is(err, ErrRadix) {
			t.Errorf("NewFF31Radix(%d) error = %v, want %v", radix, err, ErrRadix)
		}
	}
	if _, err := NewFF1Radix(make([]byte, 20), 10); !errors.Is(err, ErrKeySize) {
		t.Errorf("NewFF1Radix(20-byte key) error = %v, want %v", err, ErrKeySize)
	}
	if _, err := NewFF31Radix(make([]byte, 20), 10); !errors.Is(err, ErrKeySize) {
		t.Errorf("NewFF31Radix(20-byte key) error = %v, want %v", err, ErrKeySize)
	}
}

type cryptFunc func(tweak []byte, s string) (string, error)

func TestInputErrors(t *testing.T) {
	ff1 := mustFF1(t, testKey, "0123456789")
	ff1x := mustFF1(t, testKey, "αβγδεζηθικ")
	ff31 := mustFF31(t, testKey, "0123456789")
	tw7 := testTweak[:7]
	tests := []struct {
		name  string
		f     cryptFunc
		tweak []byte
		in    string
		want  error
	}{
		{"FF1 letter", ff1.Encrypt, testTweak, "41111111111a1111", ErrInvalidInput},
		{"FF1 letter decrypt", ff1.Decrypt, testTweak, "4111111111111x", ErrInvalidInput},
		{"FF1 non-ASCII", ff1.Encrypt, testTweak, "4111111111111é", ErrInvalidInput},
		{"FF1 space", ff1.Encrypt, testTweak, "4111 1111 1111 1111", ErrInvalidInput},
		{"FF1 odd-length last", ff1.Encrypt, testTweak, "41111111111111-", ErrInvalidInput},
		{"FF1 5 digits", ff1.Encrypt, testTweak, "12345", ErrTooShort},
		{"FF1 empty", ff1.Decrypt, testTweak, "", ErrTooShort},
		{"FF1 too long", ff1.Encrypt, testTweak, strings.Repeat("1", MaxFF1Len+1), ErrTooLong},
		{"FF1 tweak too long", ff1.Encrypt, make([]byte, MaxFF1TweakLen+1), "4111111111111111", ErrTweakSize},
		{"FF1 rune outside", ff1x.Encrypt, testTweak, "αβγδεζηθιλ", ErrInvalidInput},
		{"FF1 invalid UTF-8", ff1x.Encrypt, testTweak, "αβγδεζ\xffηθ", ErrInvalidInput},
		{"FF1 non-ASCII too short", ff1x.Encrypt, testTweak, "αβγδε", ErrTooShort},
		{"FF31 letter", ff31.Encrypt, tw7, "41111111111a1111", ErrInvalidInput},
		{"FF31 5 digits", ff31.Encrypt, tw7, "12345", ErrTooShort},
		{"FF31 57 digits", ff31.Encrypt, tw7, strings.Repeat("1", 57), ErrTooLong},
		{"FF31 8-byte tweak", ff31.Encrypt, testTweak, "4111111111111111", ErrTweakSize},
		{"FF31 6-byte tweak", ff31.Decrypt, testTweak[:6], "4111111111111111", ErrTweakSize},
		{"FF31 nil tweak", ff31.Encrypt, nil, "4111111111111111", ErrTweakSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f(tt.tweak, tt.in)
			if !errors.Is(err, tt.want) || got != "" {
				t.Fatalf("Encrypt(%q) = %q, %v, want error %v", tt.in, got, err, tt.want)
			}
			checkErrorHygiene(t, err, tt.in, tt.tweak)
		})
	}
}

// checkErrorHygiene fails if err is not an *Error or its message contains
// the input, the tweak or the test key.
func checkErrorHygiene(t *testing.T, err error, in string, tweak []byte) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Errorf("error %v is %T, want *Error", err, err)
	}
	msg := strings.ToLower(err.Error())
	secrets := []string{hex.EncodeToString(testKey)[:8], string(testKey[:4])}
	if len(in) >= 3 {
		secrets = append(secrets, strings.ToLower(in))
	}
	if len(tweak) >= 3 {
		secrets = append(secrets, hex.EncodeToString(tweak), string(tweak))
	}
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("error message %q leaks secret material %q", msg, s)
		}
	}
}

func TestNumeralErrors(t *testing.T) {
	ff1, _ := NewFF1Radix(testKey, 10)
	ff31, _ := NewFF31Radix(testKey, 10)
	ok := []uint16{4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	bad := slices.Clone(ok)
	bad[7] = 10
	tests := []struct {
		name  string
		f     func(dst []uint16, tweak []byte, src []uint16) ([]uint16, error)
		tweak []byte
		src   []uint16
		want  error
	}{
		{"FF1 numeral >= radix", ff1.EncryptNumerals, testTweak, bad, ErrInvalidInput},
		{"FF1 too short", ff1.DecryptNumerals, testTweak, ok[:5], ErrTooShort},
		{"FF1 too long", ff1.EncryptNumerals, testTweak, make([]uint16, MaxFF1Len+1), ErrTooLong},
		{"FF1 tweak", ff1.EncryptNumerals, make([]byte, MaxFF1TweakLen+1), ok, ErrTweakSize},
		{"FF31 numeral >= radix", ff31.DecryptNumerals, testTweak[:7], bad, ErrInvalidInput},
		{"FF31 too long", ff31.EncryptNumerals, testTweak[:7], make([]uint16, 57), ErrTooLong},
		{"FF31 tweak", ff31.EncryptNumerals, testTweak, ok, ErrTweakSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.f(nil, tt.tweak, tt.src); !errors.Is(err, tt.want) || got != nil {
				t.Fatalf("EncryptNumerals(%v) = %v, %v, want error %v", tt.src, got, err, tt.want)
			}
		})
	}
	// Ciphers without an alphabet refuse strings.
	if _, err := ff1.Encrypt(testTweak, "4111111111111111"); !errors.Is(err, ErrNoAlphabet) {
		t.Errorf("FF1 Encrypt without alphabet: error = %v, want %v", err, ErrNoAlphabet)
	}
	if _, err := ff31.Decrypt(testTweak[:7], "4111111111111111"); !errors.Is(err, ErrNoAlphabet) {
		t.Errorf("FF31 Decrypt without alphabet: error = %v, want %v", err, ErrNoAlphabet)
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		radix, min, max31 int
	}{
		{2, 20, 192},
		{10, 6, 56},
		{26, 5, 40},
		{36, 4, 36},
		{62, 4, 32},
		{64, 4, 32},
		{256, 3, 24},
		{1024, 2, 18},
		{65536, 2, 12},
	}
	for _, tt := range tests {
		f1, _ := NewFF1Radix(testKey, tt.radix)
		f3, _ := NewFF31Radix(testKey, tt.radix)
		if f1.MinLen() != tt.min || f3.MinLen() != tt.min || f3.MaxLen() != tt.max31 || f1.MaxLen() != MaxFF1Len {
			t.Errorf("radix %d: MinLen = %d/%d, FF31 MaxLen = %d, want %d, %d",
				tt.radix, f1.MinLen(), f3.MinLen(), f3.MaxLen(), tt.min, tt.max31)
		}
		if f1.Radix() != tt.radix || f3.Radix() != tt.radix {
			t.Errorf("Radix() = %d/%d, want %d", f1.Radix(), f3.Radix(), tt.radix)
		}
		// The boundaries themselves are accepted.
		for _, n := range []int{tt.min, tt.max31} {
			x := make([]uint16, n)
			if _, err := f3.EncryptNumerals(nil, testTweak[:7], x); err != nil {
				t.Errorf("radix %d: FF31 length %d rejected: %v", tt.radix, n, err)
			}
			if _, err := f1.EncryptNumerals(nil, testTweak, x); err != nil {
				t.Errorf("radix %d: FF1 length %d rejected: %v", tt.radix, n, err)
			}
		}
	}
	f1, _ := NewFF1Radix(testKey, 10)
	if _, err := f1.EncryptNumerals(nil, make([]byte, MaxFF1TweakLen), make([]uint16, MaxFF1Len)); err != nil {
		t.Errorf("FF1 maximum length and tweak rejected: %v", err)
	}
}

// TestNumeralsAppend checks dst handling: appending after existing content
// and encrypting in place.
func TestNumeralsAppend(t *testing.T) {
	c, _ := NewFF1Radix(testKey, 10)
	src := []uint16{4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	want, _ := c.EncryptNumerals(nil, testTweak, src)

	prefix := []uint16{7, 7}
	got, _ := c.EncryptNumerals(prefix, testTweak, src)
	if !slices.Equal(got, append([]uint16{7, 7}, want...)) {
		t.Errorf("EncryptNumerals(prefix) = %v, want 7 7 then %v", got, want)
	}

	for _, long := range []bool{false, true} { // uint64 and math/big paths
		x := slices.Clone(src)
		if long {
			x = slices.Repeat(src, 3)
		}
		w, _ := c.EncryptNumerals(nil, testTweak, x)
		inPlace, _ := c.EncryptNumerals(x[:0], testTweak, x)
		if !slices.Equal(inPlace, w) || &inPlace[0] != &x[0] {
			t.Errorf("in-place EncryptNumerals = %v, want %v in the source array", inPlace, w)
		}
	}
}

func TestAlphabets(t *testing.T) {
	tests := []struct {
		name, alphabet, in string
	}{
		{"Greek", "αβγδεζηθικλμνξοπρστυφχψω", "αβγδεζηθ"},
		{"emoji", "😀😁😂🤣😃😄😅😆😉😊", "😀😁😂🤣😃😄😅😆😉😊"},
		{"mixed width", "a€𝄞b", "a€𝄞ba€𝄞ba€𝄞b"},
		{"replacement char", "\uFFFD0123456789", "0123\uFFFD56789"},
		{"binary", "01", "0110100110010110110011"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []interface {
				Encrypt([]byte, string) (string, error)
				Decrypt([]byte, string) (string, error)
			}{mustFF1(t, testKey, tt.alphabet), mustFF31(t, testKey, tt.alphabet)} {
				tw := testTweak[:7]
				ct, err := c.Encrypt(tw, tt.in)
				if err != nil {
					t.Fatalf("%T Encrypt(%q) error: %v", c, tt.in, err)
				}
				if len([]rune(ct)) != len([]rune(tt.in)) || strings.ContainsFunc(ct, func(r rune) bool { return !strings.ContainsRune(tt.alphabet, r) }) {
					t.Errorf("%T Encrypt(%q) = %q, not a same-length string over the alphabet", c, tt.in, ct)
				}
				if pt, err := c.Decrypt(tw, ct); err != nil || pt != tt.in {
					t.Errorf("%T Decrypt(%q) = %q, %v, want %q", c, ct, pt, err, tt.in)
				}
			}
		})
	}
	// Invalid UTF-8 is not U+FFFD even when the alphabet contains it.
	c := mustFF1(t, testKey, "\uFFFD0123456789")
	if _, err := c.Encrypt(testTweak, "0123\xff56789"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("Encrypt(invalid UTF-8) error = %v, want %v", err, ErrInvalidInput)
	}
}

// TestTamper checks that a changed ciphertext, tweak or key does not
// decrypt to the plaintext, and that tweaks and keys change ciphertexts.
func TestTamper(t *testing.T) {
	const alphabet, pt = "0123456789", "4111111111111111"
	other := slices.Clone(testKey)
	other[0] ^= 1
	for _, mk := range []func(key []byte) (cryptFunc, cryptFunc, []byte){
		func(key []byte) (cryptFunc, cryptFunc, []byte) {
			c := mustFF1(t, key, alphabet)
			return c.Encrypt, c.Decrypt, testTweak
		},
		func(key []byte) (cryptFunc, cryptFunc, []byte) {
			c := mustFF31(t, key, alphabet)
			return c.Encrypt, c.Decrypt, testTweak[:7]
		},
	} {
		enc, dec, tweak := mk(testKey)
		ct, err := enc(tweak, pt)
		if err != nil {
			t.Fatal(err)
		}
		for i := range ct {
			b := []byte(ct)
			b[i] = alphabet[(strings.IndexByte(alphabet, b[i])+1)%len(alphabet)]
			if got, _ := dec(tweak, string(b)); got == pt {
				t.Errorf("Decrypt(%q) with position %d changed = %q, the plaintext", b, i, got)
			}
		}
		tw2 := slices.Clone(tweak)
		tw2[len(tw2)-1] ^= 0x01
		if got, _ := dec(tw2, ct); got == pt {
			t.Errorf("Decrypt under another tweak = %q, the plaintext", got)
		}
		if got, _ := enc(tw2, pt); got == ct {
			t.Errorf("Encrypt under another tweak = %q, same ciphertext", got)
		}
		enc2, dec2, _ := mk(other)
		if got, _ := dec2(tweak, ct); got == pt {
			t.Errorf("Decrypt under another key = %q, the plaintext", got)
		}
		if got, _ := enc2(tweak, pt); got == ct {
			t.Errorf("Encrypt under another key = %q, same ciphertext", got)
		}
	}
}

// TestFF31TweakExpansion checks that the nibble of T[3] each half drops is
// not lost: tweaks differing only in one nibble of byte 3 give different
// ciphertexts.
func TestFF31TweakExpansion(t *testing.T) {
	c := mustFF31(t, testKey, "0123456789")
	seen := map[string]bool{}
	for _, b3 := range []byte{0x00, 0x01, 0x10, 0x11, 0xF0, 0x0F} {
		tw := []byte{1, 2, 3, b3, 5, 6, 7}
		ct, err := c.Encrypt(tw, "4111111111111111")
		if err != nil {
			t.Fatal(err)
		}
		if seen[ct] {
			t.Errorf("tweak byte 3 = %#x repeats an earlier ciphertext %q", b3, ct)
		}
		seen[ct] = true
	}
	if got, want := expandTweak([]byte{0xA1, 0xA2, 0xA3, 0xB4, 0xC5, 0xC6, 0xC7}), [8]byte{0xA1, 0xA2, 0xA3, 0xB0, 0xC5, 0xC6, 0xC7, 0x40}; got != want {
		t.Errorf("expandTweak = %x, want %x", got, want)
	}
}

// TestConcurrent shares ciphers across goroutines with varied lengths and
// tweak sizes (so the per-scratch CIPH(P) cache keeps changing); run with
// -race.
func TestConcurrent(t *testing.T) {
	ff1 := mustFF1(t, testKey, "0123456789abcdefghijklmnopqrstuvwxyz")
	ff31 := mustFF31(t, testKey, "0123456789abcdefghijklmnopqrstuvwxyz")
	type job struct {
		tweak      []byte
		pt, c1, c3 string
	}
	rng := rand.New(rand.NewPCG(13, 14))
	var jobs []job
	for i := 0; i < 64; i++ {
		n := 4 + rng.IntN(30) // up to 33: exercises math/big for FF1 too
		b := make([]byte, n)
		for j := range b {
			b[j] = "0123456789abcdefghijklmnopqrstuvwxyz"[rng.IntN(36)]
		}
		tw := randBytes(rng, 7+rng.IntN(3)*5)
		c1, err1 := ff1.Encrypt(tw, string(b))
		c3, err3 := ff31.Encrypt(tw[:7], string(b))
		if err1 != nil || err3 != nil {
			t.Fatal(err1, err3)
		}
		jobs = append(jobs, job{tw, string(b), c1, c3})
	}
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 20; r++ {
				for k := range jobs {
					j := jobs[(k+g*7)%len(jobs)]
					c1, _ := ff1.Encrypt(j.tweak, j.pt)
					p1, _ := ff1.Decrypt(j.tweak, j.c1)
					c3, _ := ff31.Encrypt(j.tweak[:7], j.pt)
					p3, _ := ff31.Decrypt(j.tweak[:7], j.c3)
					if c1 != j.c1 || p1 != j.pt || c3 != j.c3 || p3 != j.pt {
						errc <- fmt.Errorf("goroutine %d: Encrypt(%q) = %q/%q, want %q/%q", g, j.pt, c1, c3, j.c1, j.c3)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}
