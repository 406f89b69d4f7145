package tokenizer_test

import (
	"bytes"
	"testing"

	"github.com/privacyvault/privacyvault/tokenizer"
	"github.com/privacyvault/privacyvault/tokenizer/fpe"
)

// TestFF1EngineAlphabets: an engine used with alphabets in turn (its last
// cipher remembered, the others in its map) encrypts each value with its
// own alphabet's cipher, as a cipher built for that alphabet alone does.
func TestFF1EngineAlphabets(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	e := tokenizer.NewFF1Engine(key)
	tweak := []byte("ctx")
	tests := []struct{ alphabet, value string }{
		{"0123456789", "4111111111111111"},
		{"abcdefghijklmnopqrstuvwxyz", "privacyvault"},
		{"0123456789", "5500005555555559"},
		{"0123456789", "4111111111111111"},
		{"abcdefghijklmnopqrstuvwxyz", "privacyvault"},
		{"0123456789abcdef", "deadbeef00"},
	}
	for _, tt := range tests {
		c, err := fpe.NewFF1(key, tt.alphabet)
		if err != nil {
			t.Fatal(err)
		}
		want, err := c.Encrypt(tweak, tt.value)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Encrypt(tt.alphabet, tweak, tt.value)
		if err != nil || got != want {
			t.Errorf("Encrypt(%q, %q) = %q, %v; want %q", tt.alphabet, tt.value, got, err, want)
		}
		back, err := e.Decrypt(tt.alphabet, tweak, got)
		if err != nil || back != tt.value {
			t.Errorf("Decrypt(%q, %q) = %q, %v; want %q", tt.alphabet, got, back, err, tt.value)
		}
	}
}

// BenchmarkFF1EngineEncrypt16Digits is FF1 on 16 digits through the
// engine, as a class's format calls it.
func BenchmarkFF1EngineEncrypt16Digits(b *testing.B) {
	e := tokenizer.NewFF1Engine(make([]byte, 32))
	tweak := []byte("ctx")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Encrypt("0123456789", tweak, "4111111111111111"); err != nil {
			b.Fatal(err)
		}
	}
}
