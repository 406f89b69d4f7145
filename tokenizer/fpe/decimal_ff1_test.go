package fpe

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestFF1DecimalStringsMatchReference runs random decimal strings of every
// length from 2 to 36 through the string methods, whose fast paths (the
// inline SWAR words for 8 to 16 digits, the decimal SWAR loops, the
// assembly rounds split around the result's allocation, the pure-Go uint64
// rounds) must agree with refFF1, the spec written out over cipher.Block;
// all key sizes, tweaks of 0 to 24 bytes (so both the single-block and the
// multi-block Q), both directions.
func TestFF1DecimalStringsMatchReference(t *testing.T) {
	iters := 150
	if testing.Short() || raceEnabled {
		iters = 20
	}
	rng := rand.New(rand.NewPCG(17, 18))
	for _, keyLen := range []int{16, 24, 32} {
		c := mustFF1(t, randBytes(rng, keyLen), decimalAlphabet)
		for n := 2; n <= 36; n++ {
			for range iters {
				tweak := randBytes(rng, rng.IntN(25))
				x := randNumerals(rng, 10, n)
				s := numeralString(x)
				got, err := c.Encrypt(tweak, s)
				if n < c.MinLen() {
					if !errors.Is(err, ErrTooShort) {
						t.Fatalf("key %d n %d: Encrypt(%q) error = %v, want ErrTooShort", keyLen, n, s, err)
					}
					break
				}
				want := numeralString(refFF1(c.block, 10, tweak, x, true))
				if err != nil || got != want {
					t.Fatalf("key %d n %d t %d: Encrypt(%q) = %q, %v, want %q", keyLen, n, len(tweak), s, got, err, want)
				}
				if back, err := c.Decrypt(tweak, got); err != nil || back != s {
					t.Fatalf("key %d n %d t %d: Decrypt(%q) = %q, %v, want %q", keyLen, n, len(tweak), got, back, err, s)
				}
			}
		}
	}
}

// TestFF1DecimalInlineRejects checks that the inline paths for 8 to 16
// digits reject a non-digit in any position, with its index, as the
// general path does.
func TestFF1DecimalInlineRejects(t *testing.T) {
	c := mustFF1(t, testKey, decimalAlphabet)
	for n := 8; n <= 16; n++ {
		for i := range n {
			for _, bad := range []byte{'/', ':', 'a', ' ', 0x80, '0' - 0x10, '9' + 0x10} {
				b := []byte(strings.Repeat("4", n))
				b[i] = bad
				for _, f := range []func([]byte, string) (string, error){c.Encrypt, c.Decrypt} {
					_, err := f(testTweak, string(b))
					if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "at index "+strconv.Itoa(i)) {
						t.Fatalf("Encrypt/Decrypt(%q) error = %v, want ErrInvalidInput at index %d", b, err, i)
					}
				}
			}
		}
	}
}

func numeralString(x []uint16) string {
	b := make([]byte, len(x))
	for i, d := range x {
		b[i] = byte('0' + d)
	}
	return string(b)
}
