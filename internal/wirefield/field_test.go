package wirefield

import (
	"bytes"
	"fmt"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field reads what protowire reads (FieldSlow) for every first two bytes
// (tag and length, or the start of longer varints) with every tail
// length around the length they give: exactly enough, one short, extra.
func TestFieldMatchesProtowire(t *testing.T) {
	tail := bytes.Repeat([]byte{0x0a}, 300)
	for b0 := range 256 {
		for b1 := range 256 {
			for _, extra := range []int{-1, 0, 1, 3, 140, 300} {
				n := b1 + extra
				if n < 0 || n > len(tail) {
					continue
				}
				b := append([]byte{byte(b0), byte(b1)}, tail[:n]...)
				num, v, rest, ok := Field(b)
				wnum, wv, wrest, wok := FieldSlow(b)
				if ok != wok || ok && (num != wnum || !bytes.Equal(v, wv) || len(rest) != len(wrest)) {
					t.Fatalf("Field(% x…, %d bytes) = %d, %d bytes, %d left, %v; want %d, %d bytes, %d left, %v",
						b[:2], len(b), num, len(v), len(rest), ok, wnum, len(wv), len(wrest), wok)
				}
			}
		}
	}
	for _, b := range [][]byte{nil, {0x0a}} {
		if _, _, _, ok := Field(b); ok {
			t.Errorf("Field(% x) ok, want not", b)
		}
	}
}

// BenchmarkField reads the 2,000 fields of a response of 1,000 16-byte
// tokens, as Field does and as protowire does.
func BenchmarkField(b *testing.B) {
	var msg []byte
	for i := range 1000 {
		inner := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), fmt.Sprintf("%016d", i))
		msg = protowire.AppendBytes(protowire.AppendTag(msg, 1, protowire.BytesType), inner)
	}
	for _, f := range []struct {
		name string
		f    func([]byte) (protowire.Number, []byte, []byte, bool)
	}{{"Field", Field}, {"protowire", FieldSlow}} {
		b.Run(f.name, func(b *testing.B) {
			for b.Loop() {
				for rest := msg; len(rest) > 0; {
					_, v, r, ok := f.f(rest)
					if _, _, _, ok2 := f.f(v); !ok || !ok2 {
						b.Fatal("not a field")
					}
					rest = r
				}
			}
		})
	}
}
