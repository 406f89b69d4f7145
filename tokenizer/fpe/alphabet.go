package fpe

import (
	"fmt"
	"unicode/utf8"
)

// MaxRadix is the largest radix SP 800-38G allows (2^16).
const MaxRadix = 1 << 16

// noNumeral marks bytes outside an ASCII alphabet. ASCII alphabets have at
// most 128 numerals, so its top bit alone identifies it.
const noNumeral = 0xFFFF

// alphabet maps between characters and numerals. A rune's index in the
// alphabet string is its numeral value.
type alphabet struct {
	runes []rune
	// ASCII alphabets (the common case) use byte tables: no UTF-8
	// decoding, no map lookups and one byte per numeral on output.
	ascii   bool
	decimal bool            // exactly "0123456789": SWAR conversions apply
	chars   []byte          // numeral -> character (ASCII only)
	lut     [256]uint16     // character -> numeral or noNumeral (ASCII only)
	index   map[rune]uint16 // rune -> numeral (non-ASCII only)
}

func newAlphabet(op, s string) (*alphabet, error) {
	if !utf8.ValidString(s) {
		return nil, newError(op, ErrAlphabet, "not valid UTF-8")
	}
	runes := []rune(s)
	if len(runes) < 2 || len(runes) > MaxRadix {
		return nil, newError(op, ErrRadix, fmt.Sprintf("alphabet has %d characters, want 2..%d", len(runes), MaxRadix))
	}
	a := &alphabet{runes: runes, ascii: len(runes) == len(s), decimal: s == decimalAlphabet}
	if a.ascii {
		a.chars = []byte(s)
		for i := range a.lut {
			a.lut[i] = noNumeral
		}
		for i, c := range a.chars {
			if a.lut[c] != noNumeral {
				return nil, newError(op, ErrAlphabet, fmt.Sprintf("duplicate character at index %d", i))
			}
			a.lut[c] = uint16(i)
		}
		return a, nil
	}
	a.index = make(map[rune]uint16, len(runes))
	for i, r := range runes {
		if _, dup := a.index[r]; dup {
			return nil, newError(op, ErrAlphabet, fmt.Sprintf("duplicate character at index %d", i))
		}
		a.index[r] = uint16(i)
	}
	return a, nil
}

// count returns the number of characters in s (runes, or bytes for ASCII
// alphabets, where any non-ASCII byte is rejected later anyway).
func (a *alphabet) count(s string) int {
	if a.ascii {
		return len(s)
	}
	return utf8.RuneCountInString(s)
}

// decode appends the numerals of s to dst. On failure it returns the index
// of the first character outside the alphabet.
func (a *alphabet) decode(dst []uint16, s string) ([]uint16, int) {
	if a.ascii {
		for i := 0; i < len(s); i++ {
			d := a.lut[s[i]]
			if d == noNumeral {
				return dst, i
			}
			dst = append(dst, d)
		}
		return dst, -1
	}
	for i, j := 0, 0; j < len(s); i++ {
		r, size := utf8.DecodeRuneInString(s[j:])
		d, ok := a.index[r]
		// Invalid UTF-8 decodes as RuneError of size 1; reject it even if
		// the alphabet contains U+FFFD, since it is not that character.
		if !ok || (r == utf8.RuneError && size == 1) {
			return dst, i
		}
		dst = append(dst, d)
		j += size
	}
	return dst, -1
}

// encode appends the characters of numerals src to dst.
func (a *alphabet) encode(dst []byte, src []uint16) []byte {
	if a.ascii {
		for _, d := range src {
			dst = append(dst, a.chars[d])
		}
		return dst
	}
	for _, d := range src {
		dst = utf8.AppendRune(dst, a.runes[d])
	}
	return dst
}

func badCharError(op string, i int) error {
	return newError(op, ErrInvalidInput, fmt.Sprintf("at index %d", i))
}
