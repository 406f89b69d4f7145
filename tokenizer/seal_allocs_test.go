//go:build !race

package tokenizer

import (
	"bytes"
	"testing"
)

// TestSealerAllocations pins that sealing into a caller's buffer and
// opening allocate nothing but Open's result: the associated data comes
// from a pool (Sealer.ad).
func TestSealerAllocations(t *testing.T) {
	s, err := NewSealer("email", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	id, value := NewID(), []byte("alice@example.com")
	nonce := bytes.Repeat([]byte{7}, NonceSize)
	buf := make([]byte, 0, s.SealedLen(len(value)))
	sealed := s.AppendSeal(nil, nonce, id, value)
	tests := []struct {
		name string
		f    func()
		want float64
	}{
		{"AppendSeal", func() { s.AppendSeal(buf, nonce, id, value) }, 0},
		{"Open", func() { s.Open(id, sealed) }, 1},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(200, tt.f); got != tt.want {
			t.Errorf("%s allocations = %v, want %v", tt.name, got, tt.want)
		}
	}
}
