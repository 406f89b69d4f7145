//go:build !race

package tokenizer

import (
	"testing"

	"github.com/privacyvault/privacyvault/tokenizer/format"
)

// The race detector adds allocations, so this file is left out of -race
// builds; make test runs TestFormatAllocations once more without -race.

// TestFormatAllocations pins the allocation budget of one fpe value
// through its format and the FF1 engine, each way: the result and FF1's
// result; credit_card's derangement evaluates FF1 twice and needs its
// two closures, the middle digits and the next value as strings.
func TestFormatAllocations(t *testing.T) {
	e := NewFF1Engine(make([]byte, 32))
	tweak := []byte("class-tweak")
	tests := []struct {
		spec  format.Spec
		value string
		want  float64
	}{
		{format.Spec{Name: format.NameDigits}, "4111111111111111", 1},
		{format.Spec{Name: format.NameCreditCard}, "4111 1111 1111 1111", 7},
		{format.Spec{Name: format.NameSSN}, "123-45-6789", 3},
		{format.Spec{Name: format.NamePhone}, "+1 415 555 2671", 3},
	}
	for _, tt := range tests {
		f, err := format.New(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		token, err := f.Encrypt(e, tweak, tt.value)
		if err != nil {
			t.Fatalf("%s: Encrypt(%q) error: %v", tt.spec.Name, tt.value, err)
		}
		if got := testing.AllocsPerRun(200, func() { f.Encrypt(e, tweak, tt.value) }); got > tt.want {
			t.Errorf("%s: Encrypt allocations = %v, want <= %v", tt.spec.Name, got, tt.want)
		}
		if got := testing.AllocsPerRun(200, func() { f.Decrypt(e, tweak, token) }); got > tt.want {
			t.Errorf("%s: Decrypt allocations = %v, want <= %v", tt.spec.Name, got, tt.want)
		}
	}
}
