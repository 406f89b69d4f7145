//go:build !race

package fpe

import "testing"

// The race detector adds allocations, so this file is left out of -race
// builds; make test runs the package once more without -race for it.

// TestEncryptAllocs pins the one-allocation budget of the string fast paths.
func TestEncryptAllocs(t *testing.T) {
	ff1 := mustFF1(t, testKey, "0123456789")
	ff1b := mustFF1(t, testKey, "0123456789abcdefghijklmnopqrstuvwxyz")
	ff31 := mustFF31(t, testKey, "0123456789")
	tests := []struct {
		name string
		f    func() (string, error)
	}{
		{"FF1 decimal", func() (string, error) { return ff1.Encrypt(testTweak, "4111111111111111") }},
		{"FF1 decimal decrypt", func() (string, error) { return ff1.Decrypt(testTweak, "4111111111111111") }},
		{"FF1 base36", func() (string, error) { return ff1b.Encrypt(testTweak, "0123456789abcdefghi") }},
		{"FF31 decimal", func() (string, error) { return ff31.Encrypt(testTweak[:7], "4111111111111111") }},
	}
	for _, tt := range tests {
		tt.f() // warm the pool
		if n := testing.AllocsPerRun(200, func() { tt.f() }); n > 1 {
			t.Errorf("%s: %v allocations per call, want <= 1", tt.name, n)
		}
	}
}
