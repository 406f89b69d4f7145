package fpe

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
)

// newBlock returns AES keyed with key, rejecting sizes other than AES-128,
// AES-192 and AES-256.
func newBlock(op string, key []byte) (cipher.Block, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, newError(op, ErrKeySize, fmt.Sprintf("got %d bytes", len(key)))
	}
	return aes.NewCipher(key)
}

func checkRadix(op string, radix int) error {
	if radix < 2 || radix > MaxRadix {
		return newError(op, ErrRadix, fmt.Sprintf("got %d, want 2..%d", radix, MaxRadix))
	}
	return nil
}

// checkNumerals rejects a numeral that is not below the radix.
func checkNumerals(op string, src []uint16, radix uint64) error {
	if radix > 0xFFFF {
		return nil // every uint16 is a valid radix-65536 numeral
	}
	for i, d := range src {
		if uint64(d) >= radix {
			return newError(op, ErrInvalidInput, fmt.Sprintf("numeral at index %d not below radix %d", i, radix))
		}
	}
	return nil
}

// firstBadByte returns the index of the first byte of s outside an ASCII
// alphabet's lookup table.
func firstBadByte(lut *[256]uint16, s string) int {
	for i := 0; i < len(s); i++ {
		if lut[s[i]] == noNumeral {
			return i
		}
	}
	return -1
}

// sliceForAppend extends in by n elements, reusing its capacity when it can,
// and returns the whole slice and the new tail.
func sliceForAppend(in []uint16, n int) (head, tail []uint16) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]uint16, total)
		copy(head, in)
	}
	return head, head[len(in):]
}

// grow returns b resized to n bytes, reallocating only when it is too small.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

func lengthError(op string, err error, n, limit int, radix uint64) error {
	what := "minimum"
	if err == ErrTooLong {
		what = "maximum"
	}
	return newError(op, err, fmt.Sprintf("length %d, %s %d for radix %d", n, what, limit, radix))
}
