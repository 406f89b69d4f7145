package core

import (
	"unicode/utf8"

	"github.com/privacyvault/privacyvault/policy"
)

// reveal returns v at level: whole, masked, or nothing.
func (c *class) reveal(v []byte, level policy.Reveal) []byte {
	switch level {
	case policy.Plain:
		return v
	case policy.Masked:
		return c.mask(v)
	}
	return nil
}

// mask returns the class format's mask of v (e.g. "************1111"), or,
// for classes without a format, v with all but the last four characters
// hidden (all of them for values shorter than eight).
func (c *class) mask(v []byte) []byte {
	if c.Format != nil {
		if m, err := c.Format.Mask(string(v)); err == nil {
			return []byte(m)
		}
	}
	return genericMask(v)
}

func genericMask(v []byte) []byte {
	if !utf8.Valid(v) {
		return []byte("****")
	}
	runes := []rune(string(v))
	keep := 0
	if len(runes) >= 8 {
		keep = 4
	}
	out := make([]rune, len(runes))
	for i, r := range runes {
		if i < len(runes)-keep {
			r = '*'
		}
		out[i] = r
	}
	return []byte(string(out))
}
