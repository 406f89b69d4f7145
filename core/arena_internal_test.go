package core

import (
	"fmt"
	"testing"
)

// Arena strings and slices keep their contents while later ones are cut
// from the same or new blocks, and appending to a slice does not write
// over the next.
func TestArenas(t *testing.T) {
	tests := []struct {
		name  string
		texts *textArena
		bytes *byteArena
	}{
		{"arenas", &textArena{}, &byteArena{}},
		{"nil arenas allocate", nil, nil},
	}
	for _, tt := range tests {
		var strs []string
		var slices [][]byte
		for i := range 1000 {
			v := fmt.Sprintf("%016d", i*7919)
			if i%100 == 0 {
				v = fmt.Sprintf("%02000d", i) // larger than an arena takes
			}
			strs = append(strs, tt.texts.text([]byte(v)))
			slices = append(slices, tt.bytes.bytes(v))
		}
		for _, b := range slices {
			_ = append(b, "XXXXXXXX"...)
		}
		for i := range 1000 {
			want := fmt.Sprintf("%016d", i*7919)
			if i%100 == 0 {
				want = fmt.Sprintf("%02000d", i)
			}
			if strs[i] != want || string(slices[i]) != want {
				t.Fatalf("%s: value %d = %q, %q; want %q", tt.name, i, strs[i], slices[i], want)
			}
		}
	}
}

// A chunk's values take one allocation per block, not one each.
func TestArenaAllocations(t *testing.T) {
	v := []byte("4111111111111111")
	n := testing.AllocsPerRun(20, func() {
		var a textArena
		var b byteArena
		for range 256 {
			_ = a.text(v)
			_ = b.bytes(string(v))
		}
	})
	if n > 2*(256*16/arenaBlock+1) {
		t.Errorf("256 values of 16 bytes through both arenas: %v allocations, want at most %d", n, 2*(256*16/arenaBlock+1))
	}
}
