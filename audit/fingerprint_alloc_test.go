//go:build !race

// The race detector's sync.Pool drops pooled states at random, so the
// allocation budget is checked without it (make test runs it apart).

package audit_test

import "testing"

// A fingerprint costs one allocation (its string): a batch takes one per
// token.
func TestFingerprintOneAllocation(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"Token", func() { _ = testFP.Token("email", "pvt_abcdefghijklmnop") }},
		{"TokenV1", func() { _ = testFP.TokenV1("email", "pvt_abcdefghijklmnop") }},
		{"Subject", func() { _ = testFP.Subject("alice") }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(100, tt.f); n != 1 {
			t.Errorf("%s: %v allocations, want 1", tt.name, n)
		}
	}
}

// A TokenSet spells a batch's fingerprints in one allocation.
func TestTokenSetOneAllocation(t *testing.T) {
	n := testing.AllocsPerRun(20, func() {
		set := testFP.TokenSet(1000)
		for i := range 1000 {
			_ = set.Token(i, "email", "pvt_abcdefghijklmnop")
		}
	})
	if n != 1 {
		t.Errorf("TokenSet(1000) and 1,000 Token calls: %v allocations, want 1", n)
	}
}
