package core

import (
	"unicode/utf8"

	"github.com/privacyvault/privacyvault/policy"
)

// reveal returns v at level. Masked keeps the last four characters of
// values of eight or more, and nothing of shorter ones.
func reveal(v []byte, level policy.Reveal) []byte {
	switch level {
	case policy.Plain:
		return v
	case policy.Masked:
		return mask(v)
	}
	return nil
}

func mask(v []byte) []byte {
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
