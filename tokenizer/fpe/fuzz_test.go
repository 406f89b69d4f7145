package fpe

import (
	"slices"
	"strings"
	"testing"
)

// fuzzRadices are the radices mode picks from unless it asks for an
// arbitrary one.
var fuzzRadices = []int{2, 10, 16, 26, 36, 62, 64, 94, 255, 256, 1024, 65535, 65536}

// fuzzAlphabet returns an alphabet of radix characters: "0123..." style
// ASCII (decimal for radix 10), all of printable ASCII, or non-ASCII runes.
func fuzzAlphabet(radix int, nonASCII bool) (string, bool) {
	var first rune
	switch {
	case nonASCII && radix <= 600:
		first = 0xC0 // À onwards: two-byte UTF-8
	case radix <= 79:
		first = '0'
	case radix <= 94:
		first = '!'
	default:
		return "", false
	}
	var b strings.Builder
	for k := range radix {
		b.WriteRune(first + rune(k))
	}
	return b.String(), true
}

// FuzzRoundTrip checks Decrypt(Encrypt(x)) == x for FF1 and FF3-1 over
// random keys, radices, tweaks and lengths, through both APIs, and that the
// string and numeral APIs agree.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("0123456789abcdef"), uint16(1), []byte("tweak"), []byte("4111111111111111"), uint8(0))
	f.Add([]byte("k"), uint16(65535), []byte{}, []byte{0xff, 0xff, 0, 0, 1, 2}, uint8(7))
	f.Add([]byte("long key material for AES-256!!!"), uint16(4), []byte("a tweak longer than one AES block"), make([]byte, 90), uint8(0x1a))
	f.Fuzz(func(t *testing.T, keySeed []byte, radixSeed uint16, tweak, data []byte, mode uint8) {
		key := make([]byte, []int{16, 24, 32}[int(mode)%3])
		copy(key, keySeed)
		radix := fuzzRadices[int(radixSeed)%len(fuzzRadices)]
		if mode&4 != 0 {
			radix = 2 + int(radixSeed)%(MaxRadix-1)
		}
		tweak = tweak[:min(len(tweak), 64)]
		tweak7 := make([]byte, FF31TweakLen)
		copy(tweak7, tweak)

		x := make([]uint16, len(data)/2)
		for i := range x {
			x[i] = uint16((int(data[2*i])<<8 | int(data[2*i+1])) % radix)
		}
		alphabet, useStrings := fuzzAlphabet(radix, mode&8 != 0)

		ff1, err := NewFF1Radix(key, radix)
		if err != nil {
			t.Fatal(err)
		}
		x1 := fitLength(x, ff1.MinLen(), 200)
		checkRoundTrip(t, "FF1", ff1.EncryptNumerals, ff1.DecryptNumerals, tweak, x1, radix)

		ff31, err := NewFF31Radix(key, radix)
		if err != nil {
			t.Fatal(err)
		}
		x3 := fitLength(x, ff31.MinLen(), ff31.MaxLen())
		checkRoundTrip(t, "FF31", ff31.EncryptNumerals, ff31.DecryptNumerals, tweak7, x3, radix)

		if !useStrings {
			return
		}
		s1, err := NewFF1(key, alphabet)
		if err != nil {
			t.Fatal(err)
		}
		checkStrings(t, "FF1", s1.Encrypt, s1.Decrypt, ff1.EncryptNumerals, tweak, x1, alphabet)
		s3, err := NewFF31(key, alphabet)
		if err != nil {
			t.Fatal(err)
		}
		checkStrings(t, "FF31", s3.Encrypt, s3.Decrypt, ff31.EncryptNumerals, tweak7, x3, alphabet)
	})
}

// fitLength pads x with zeros to lo numerals or truncates it to hi.
func fitLength(x []uint16, lo, hi int) []uint16 {
	x = slices.Clone(x[:min(len(x), hi)])
	for len(x) < lo {
		x = append(x, 0)
	}
	return x
}

type numeralFunc func(dst []uint16, tweak []byte, src []uint16) ([]uint16, error)

func checkRoundTrip(t *testing.T, name string, enc, dec numeralFunc, tweak []byte, x []uint16, radix int) {
	t.Helper()
	ct, err := enc(nil, tweak, x)
	if err != nil {
		t.Fatalf("%s radix %d: EncryptNumerals(%v) error: %v", name, radix, x, err)
	}
	if len(ct) != len(x) {
		t.Fatalf("%s radix %d: EncryptNumerals(%v) = %v, length changed", name, radix, x, ct)
	}
	for _, d := range ct {
		if int(d) >= radix {
			t.Fatalf("%s radix %d: EncryptNumerals(%v) = %v, numeral %d out of range", name, radix, x, ct, d)
		}
	}
	if pt, err := dec(nil, tweak, ct); err != nil || !slices.Equal(pt, x) {
		t.Fatalf("%s radix %d: DecryptNumerals(%v) = %v, %v, want %v", name, radix, ct, pt, err, x)
	}
}

func checkStrings(t *testing.T, name string, enc, dec cryptFunc, encNum numeralFunc, tweak []byte, x []uint16, alphabet string) {
	t.Helper()
	runes := []rune(alphabet)
	toString := func(x []uint16) string {
		var b strings.Builder
		for _, d := range x {
			b.WriteRune(runes[d])
		}
		return b.String()
	}
	in := toString(x)
	ct, err := enc(tweak, in)
	if err != nil {
		t.Fatalf("%s radix %d: Encrypt(%q) error: %v", name, len(runes), in, err)
	}
	wantNum, _ := encNum(nil, tweak, x)
	if want := toString(wantNum); ct != want {
		t.Fatalf("%s radix %d: Encrypt(%q) = %q, want %q (numeral API)", name, len(runes), in, ct, want)
	}
	if pt, err := dec(tweak, ct); err != nil || pt != in {
		t.Fatalf("%s radix %d: Decrypt(%q) = %q, %v, want %q", name, len(runes), ct, pt, err, in)
	}
}
