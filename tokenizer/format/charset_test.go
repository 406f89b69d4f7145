package format

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

var (
	digitsSpec = Spec{Name: NameDigits}
	alnumSpec  = Spec{Name: NameAlphanumeric}
	hexSpec    = Spec{Name: NameAlphabet, Alphabet: "0123456789abcdef"}
	upperHex   = Spec{Name: NameAlphabet, Alphabet: "0123456789ABCDEF"}
	dnaSpec    = Spec{Name: NameAlphabet, Alphabet: "ACGT"}
	bothCases  = Spec{Name: NameAlphabet, Alphabet: "abcdefABCDEF"}
)

func TestCharsetEncrypt(t *testing.T) {
	tests := []struct {
		spec         Spec
		e            Engine
		value, token string
	}{
		// shiftEngine adds 1, 9, 8, 2, 5, 4 to the digits at positions 0-5 (worked
		// out from its key and the tweak "tw").
		{digitsSpec, shift, "123456", "211600"},
		{digitsSpec, shift, "12 34 56 78 90", "21 16 00 04 88"},
		{digitsSpec, feistel, "0000-0000", "9921-4784"},
		// Uppercase letters stay uppercase letters; lowercase letters and digits
		// map to any of 0-9a-z.
		{alnumSpec, feistel, "AbC123", "CpOi6i"},
		{alnumSpec, feistel, "abc123", "wkusou"},
		{alnumSpec, feistel, "ABCDEFG", "YEVHHUM"},
		{alnumSpec, feistel, "John.Smith-42", "N9mr.U8uc3-50"},
		{alnumSpec, feistel, "Ab-Cd-Ef-12", "Nx-Za-He-z2"},
		{alnumSpec, feistel, "user_4711", "xltj_04td"},
		{alnumSpec, feistel, "ÄrgerZ12345", "Äp7c2Ez9aox"}, // non-ASCII is kept
		{hexSpec, feistel, "deadBEEF", "593dCEDC"},
		{hexSpec, feistel, "c0ffee", "9fd2d6"},
		{upperHex, feistel, "deadbeef", "acadacbb"},
		{upperHex, feistel, "DEAD-beef-0042", "43E9-aedd-27B3"},
		{dnaSpec, feistel, "ACGTACGTACGT", "CGTGTGGTCGAA"},
		{dnaSpec, feistel, "acgt-ACGT-acgt", "gatc-CATC-ggtt"},
		// An alphabet with both cases is used as given: x, y, z are kept.
		{bothCases, feistel, "aBcDeF-xyz", "afDbef-xyz"},
		{bothCases, feistel, "fedcba", "fDEbFd"},
	}
	for _, tt := range tests {
		f := mustNew(t, tt.spec)
		got, err := f.Encrypt(tt.e, tweak, tt.value)
		if err != nil || got != tt.token {
			t.Errorf("%s: Encrypt(%q) = %q, %v; want %q", tt.spec.Name, tt.value, got, err, tt.token)
		}
		back, err := f.Decrypt(tt.e, tweak, tt.token)
		if err != nil || back != tt.value {
			t.Errorf("%s: Decrypt(%q) = %q, %v; want %q", tt.spec.Name, tt.token, back, err, tt.value)
		}
	}
}

func TestCharsetMask(t *testing.T) {
	tests := []struct {
		spec          Spec
		value, masked string
	}{
		{digitsSpec, "123456", "******"},
		{digitsSpec, "1234567", "*******"},
		{digitsSpec, "12345678", "****5678"},
		{digitsSpec, "12 34 56 78 90", "** ** ** 78 90"},
		{alnumSpec, "John.Smith-42", "****.***th-42"},
		{alnumSpec, "AB", "**"},
		{hexSpec, "deadBEEF", "****BEEF"},
		{Spec{Name: NameDigits, MaskChar: "#"}, "0000-0000", "####-0000"},
		{Spec{Name: NameDigits, MaskChar: "•"}, "12345678", "••••5678"},
	}
	for _, tt := range tests {
		got, err := mustNew(t, tt.spec).Mask(tt.value)
		if err != nil || got != tt.masked {
			t.Errorf("%s: Mask(%q) = %q, %v; want %q", tt.spec.Name, tt.value, got, err, tt.masked)
		}
	}
}

func TestCharsetRoundTrip(t *testing.T) {
	tests := []struct {
		spec       Spec
		chars      string // transformable characters random values are drawn from
		separators string // characters put between them now and then
	}{
		{digitsSpec, "0123456789", " -./x"},
		{alnumSpec, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "-_. @é"},
		{hexSpec, "0123456789abcdefABCDEF", "-:gG"},
		{upperHex, "0123456789abcdefABCDEF", "-:"},
		{bothCases, "abcdefABCDEF", "-xyzXYZ"},
	}
	for _, tt := range tests {
		f := mustNew(t, tt.spec)
		cs := f.(*charsetFormat).cs
		for _, eng := range roundTripEngines {
			r := newRand()
			for range eng.n {
				// At least 8 transformable characters: ≥ 6^8 values even for
				// uppercase under "0-9a-f", whose only letters are a-f.
				value := randomText(r, tt.chars, tt.separators, 8+r.IntN(24))
				token := roundTrip(t, f, eng.e, value)
				kept := sameOutside(value, token, func(i int) bool { return cs.has(value[i]) })
				if !kept || !sameClasses(cs, value, token) {
					t.Fatalf("%s/%s: Encrypt(%q) = %q: kept characters or case classes changed", tt.spec.Name, eng.name, value, token)
				}
				if eng.distinct && token == value {
					t.Errorf("%s/%s: Encrypt(%q) = the value", tt.spec.Name, eng.name, value)
				}
			}
		}
	}
}

// randomText returns n characters from chars with, after each but the last,
// one from separators a quarter of the time.
func randomText(r *rand.Rand, chars, separators string, n int) string {
	var b strings.Builder
	sep := []rune(separators)
	for i := range n {
		b.WriteByte(chars[r.IntN(len(chars))])
		if i < n-1 && r.IntN(4) == 0 {
			b.WriteRune(sep[r.IntN(len(sep))])
		}
	}
	return b.String()
}

// sameClasses reports whether every transformed position has the same class
// (base or folded letter) in value and token.
func sameClasses(cs *charset, value, token string) bool {
	for i := range len(value) {
		if cs.has(value[i]) && (cs.index[value[i]] >= 0) != (cs.index[token[i]] >= 0) {
			return false
		}
	}
	return true
}

func TestCharsetDomainTooSmall(t *testing.T) {
	tests := []struct {
		spec  Spec
		value string
	}{
		{digitsSpec, "12345"},         // 10^5
		{digitsSpec, "12-34-5abcdef"}, // 10^5
		{alnumSpec, "abc"},            // 36^3
		{alnumSpec, "JOHN"},           // 26^4: uppercase letters only map to uppercase letters
		{dnaSpec, "ACGTACGTA"},        // 4^9
		{hexSpec, "!!!"},              // nothing to transform
	}
	for _, tt := range tests {
		err := mustNew(t, tt.spec).Validate(tt.value)
		if !errors.Is(err, ErrDomainTooSmall) {
			t.Errorf("%s: Validate(%q) = %v, want ErrDomainTooSmall", tt.spec.Name, tt.value, err)
		}
	}
}

func TestCharsetDomainLargeEnough(t *testing.T) {
	tests := []struct {
		spec  Spec
		value string
	}{
		{digitsSpec, "123456"},   // 10^6
		{alnumSpec, "abcd"},      // 36^4
		{alnumSpec, "John"},      // 26·36^3
		{alnumSpec, "JOHNX"},     // 26^5
		{dnaSpec, "ACGTACGTAC"},  // 4^10
		{hexSpec, "12:34:56:78"}, // 16^8
	}
	for _, tt := range tests {
		if err := mustNew(t, tt.spec).Validate(tt.value); err != nil {
			t.Errorf("%s: Validate(%q) = %v, want nil", tt.spec.Name, tt.value, err)
		}
	}
}

// TestCharsetAllBaseFastPath checks that values made only of alphabet
// characters, which skip the copy and positions of the general path, get
// the token and errors the general path gives.
func TestCharsetAllBaseFastPath(t *testing.T) {
	tests := []struct {
		spec  Spec
		value string
	}{
		{digitsSpec, "4111111111111111"},
		{digitsSpec, "123456"},
		{digitsSpec, "12345"}, // domain too small
		{alnumSpec, "abc123xyz"},
		{hexSpec, "deadbeef00"},
		{dnaSpec, "ACGTACGTACGT"},
	}
	for _, tt := range tests {
		f := mustNew(t, tt.spec).(*charsetFormat)
		for _, decrypt := range []bool{false, true} {
			got, err := f.transform(feistel, tweak, tt.value, decrypt)
			buf, pos, perr := f.parseDomain(tt.value)
			want, werr := "", perr
			if perr == nil {
				want, werr = transformAt(f.name, f.cs, feistel, tweak, decrypt, buf, pos)
			}
			if got != want || (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
				t.Errorf("%s transform(%q, decrypt %v) = %q, %v; want %q, %v", tt.spec.Name, tt.value, decrypt, got, err, want, werr)
			}
			if verr := f.Validate(tt.value); (verr == nil) != (perr == nil) {
				t.Errorf("%s Validate(%q) = %v, want %v", tt.spec.Name, tt.value, verr, perr)
			}
		}
	}
}
