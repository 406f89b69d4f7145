// Package formattest is the conformance suite every format.Engine must
// pass (FF1, FF3-1, the hash engine).
package formattest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/tokenizer/format"
)

// Engine describes the engine under test.
type Engine struct {
	// New returns the engine with a 32-byte key.
	New func(key []byte) format.Engine
	// Reversible engines decrypt what they encrypt and refuse strings
	// outside the domain; a one-way engine's Decrypt fails with
	// format.ErrIrreversible, and the format package keeps its calls
	// within the domain.
	Reversible bool
	// Tweak returns valid tweak number i; distinct i give distinct tweaks.
	Tweak func(i int) []byte
	// MaxDigits is the longest digit string the engine takes (0: no limit
	// below 64).
	MaxDigits int
}

const (
	digits = "0123456789"
	alnum  = "0123456789abcdefghijklmnopqrstuvwxyz"
)

// RunEngine runs the suite.
func RunEngine(t *testing.T, e Engine) {
	key := bytes.Repeat([]byte{7}, 32)
	eng := e.New(key)
	long := 16
	if e.MaxDigits > 0 {
		long = min(long, e.MaxDigits)
	}
	inputs := []struct{ alphabet, s string }{
		{digits, "123456"},                          // 10^6: the smallest domain
		{digits, "4111111111111111"[:long]},         // a card number's length
		{alnum, "k3x9"},                             // 36^4 ≥ 10^6
		{alnum, "jsmith1984"},                       // an e-mail local part
		{"ab", strings.Repeat("ab", 10)},            // radix 2: 2^20
		{"ACGT", strings.Repeat("GATTACA", 2)[:10]}, // 4^10
	}
	t.Run("RoundTrip", func(t *testing.T) {
		for _, in := range inputs {
			tw := e.Tweak(0)
			got, err := eng.Encrypt(in.alphabet, tw, in.s)
			if err != nil {
				t.Errorf("Encrypt(%q, %q) error = %v", in.alphabet, in.s, err)
				continue
			}
			if len(got) != len(in.s) || strings.Trim(got, in.alphabet) != "" {
				t.Errorf("Encrypt(%q, %q) = %q, want %d characters of the alphabet", in.alphabet, in.s, got, len(in.s))
			}
			if again, _ := eng.Encrypt(in.alphabet, tw, in.s); again != got {
				t.Errorf("Encrypt(%q, %q) = %q, then %q; want it deterministic", in.alphabet, in.s, got, again)
			}
			back, err := eng.Decrypt(in.alphabet, tw, got)
			switch {
			case !e.Reversible && !errors.Is(err, format.ErrIrreversible):
				t.Errorf("one-way Decrypt(%q) error = %v, want format.ErrIrreversible", got, err)
			case e.Reversible && (err != nil || back != in.s):
				t.Errorf("Decrypt(Encrypt(%q)) = %q, %v; want %q", in.s, back, err, in.s)
			}
		}
	})
	// A one-way engine is only ever called within the domain, by the
	// format package; a cipher must refuse what is outside it.
	if e.Reversible {
		t.Run("DomainLimits", func(t *testing.T) { domainLimits(t, eng, e) })
	}
	t.Run("TweakSeparation", func(t *testing.T) {
		s := "4111111111111111"[:long]
		a, errA := eng.Encrypt(digits, e.Tweak(0), s)
		b, errB := eng.Encrypt(digits, e.Tweak(1), s)
		if errA != nil || errB != nil || a == b {
			t.Errorf("Encrypt(%q) under two tweaks = %q (%v), %q (%v); want two different strings", s, a, errA, b, errB)
		}
		if e.Reversible {
			if got, err := eng.Decrypt(digits, e.Tweak(1), a); err == nil && got == s {
				t.Errorf("Decrypt under another tweak = %q, the plaintext; want something else", got)
			}
		}
	})
	t.Run("KeySeparation", func(t *testing.T) {
		s := "4111111111111111"[:long]
		other := e.New(bytes.Repeat([]byte{8}, 32))
		a, errA := eng.Encrypt(digits, e.Tweak(0), s)
		b, errB := other.Encrypt(digits, e.Tweak(0), s)
		if errA != nil || errB != nil || a == b {
			t.Errorf("Encrypt(%q) under two keys = %q (%v), %q (%v); want two different strings", s, a, errA, b, errB)
		}
	})
}

func domainLimits(t *testing.T, eng format.Engine, e Engine) {
	bad := []struct{ name, alphabet, s string }{
		{"10^5 values", digits, "12345"},
		{"36^3 values", alnum, "k3x"},
		{"outside the alphabet", digits, "12345a7890"},
	}
	if e.MaxDigits > 0 {
		bad = append(bad, struct{ name, alphabet, s string }{"over the length limit", digits, strings.Repeat("7", e.MaxDigits+1)})
	}
	for _, tt := range bad {
		if got, err := eng.Encrypt(tt.alphabet, e.Tweak(0), tt.s); err == nil {
			t.Errorf("Encrypt(%s: %q) = %q, nil; want an error", tt.name, tt.s, got)
		}
		if got, err := eng.Decrypt(tt.alphabet, e.Tweak(0), tt.s); err == nil {
			t.Errorf("Decrypt(%s: %q) = %q, nil; want an error", tt.name, tt.s, got)
		}
	}
}
