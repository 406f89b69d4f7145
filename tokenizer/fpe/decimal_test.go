package fpe

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func reverseString(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func TestDecimalConversions(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for m := 1; m <= 19; m++ {
		limit := uint64(1)
		for range m {
			limit *= 10
		}
		tests := []uint64{0, 1, limit - 1, limit / 2, limit / 10}
		for range 200 {
			tests = append(tests, rng.Uint64N(limit))
		}
		for _, tt := range tests {
			want := strconv.FormatUint(tt, 10)
			want = strings.Repeat("0", m-len(want)) + want
			for _, rev := range []bool{false, true} {
				w := want
				if rev {
					w = reverseString(want)
				}
				buf := make([]byte, m)
				putDecimal(buf, tt, rev)
				if string(buf) != w {
					t.Fatalf("putDecimal(%d, m=%d, rev=%v) = %q, want %q", tt, m, rev, buf, w)
				}
				if got, ok := parseDecimal(w, rev); !ok || got != tt {
					t.Fatalf("parseDecimal(%q, rev=%v) = %d, %v, want %d", w, rev, got, ok, tt)
				}
			}
		}
	}
}

func TestParseDecimalRejects(t *testing.T) {
	// Every non-digit byte, at every position of 8- and 11-digit strings
	// (the SWAR word and the byte-wise head).
	for _, base := range []string{"12345678", "12345678901"} {
		for pos := range len(base) {
			for c := 0; c < 256; c++ {
				if c >= '0' && c <= '9' {
					continue
				}
				b := []byte(base)
				b[pos] = byte(c)
				for _, rev := range []bool{false, true} {
					if _, ok := parseDecimal(string(b), rev); ok {
						t.Fatalf("parseDecimal(%q, rev=%v) accepted byte %#x at %d", b, rev, c, pos)
					}
				}
			}
		}
	}
}

// TestDigits8 checks the SWAR formatter against strconv on every value
// near a power of ten and on a spread of others.
func TestDigits8(t *testing.T) {
	check := func(x uint64) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], digits8(x))
		if want := fmt.Sprintf("%08d", x); string(b[:]) != want {
			t.Fatalf("digits8(%d) = %q, want %q", x, b[:], want)
		}
	}
	for p := uint64(1); p <= 1e8; p *= 10 {
		for x := p - min(p, 1000); x < min(p+1000, 1e8); x++ {
			check(x)
		}
	}
	for x := uint64(0); x < 1e8; x += 997 {
		check(x)
	}
}
