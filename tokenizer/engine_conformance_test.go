package tokenizer_test

import (
	"testing"

	"github.com/privacyvault/privacyvault/tokenizer"
	"github.com/privacyvault/privacyvault/tokenizer/format"
	"github.com/privacyvault/privacyvault/tokenizer/format/formattest"
	"github.com/privacyvault/privacyvault/tokenizer/fpe"
)

func TestEngineConformance(t *testing.T) {
	anyTweak := func(i int) []byte { return []byte{byte(i), 'c', 't', 'x'} }
	ff31Tweak := func(i int) []byte { return []byte{byte(i), 1, 2, 3, 4, 5, 6} }
	tests := []struct {
		name   string
		engine formattest.Engine
	}{
		{"FF1", formattest.Engine{New: func(k []byte) format.Engine { return tokenizer.NewFF1Engine(k) }, Reversible: true, Tweak: anyTweak}},
		{"FF3-1", formattest.Engine{New: func(k []byte) format.Engine { return tokenizer.NewFF31Engine(k) }, Reversible: true, Tweak: ff31Tweak, MaxDigits: ff31MaxDigits(t)}},
		{"hash", formattest.Engine{New: func(k []byte) format.Engine { return tokenizer.NewHashEngine(k) }, Tweak: anyTweak}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { formattest.RunEngine(t, tt.engine) })
	}
}

// ff31MaxDigits is FF3-1's length limit for decimal strings.
func ff31MaxDigits(t *testing.T) int {
	c, err := fpe.NewFF31(make([]byte, 32), "0123456789")
	if err != nil {
		t.Fatal(err)
	}
	return c.MaxLen()
}
