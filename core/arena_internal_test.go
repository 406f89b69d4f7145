package core

import (
	"bytes"
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

// A record arena hands every random byte out once (no two identifiers or
// nonces share bytes), and its buffers have the capacity asked for, so
// a sealed value appended to one never writes into the next.
func TestRecordArena(t *testing.T) {
	var a recordArena
	seen := map[string]bool{}
	var bufs [][]byte
	for i := range 2000 {
		id := a.random(16)
		if len(id) != 16 || cap(id) != 16 {
			t.Fatalf("random(16) = len %d cap %d, want 16 16", len(id), cap(id))
		}
		if seen[string(id)] {
			t.Fatalf("random(16) #%d repeated an earlier identifier", i)
		}
		seen[string(id)] = true
		n := 20 + i%50
		if i%500 == 0 {
			n = 2 * arenaBlock // larger than a block takes
		}
		b := a.buffer(n)
		if len(b) != 0 || cap(b) != n {
			t.Fatalf("buffer(%d) = len %d cap %d, want 0 %d", n, len(b), cap(b), n)
		}
		bufs = append(bufs, append(b, bytes.Repeat([]byte{byte(i)}, n)...))
	}
	for i, b := range bufs {
		if b[0] != byte(i) || b[len(b)-1] != byte(i) {
			t.Fatalf("buffer %d = %x..%x, want all %x (overwritten by a later one)", i, b[0], b[len(b)-1], byte(i))
		}
	}
}
