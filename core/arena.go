package core

import (
	"crypto/rand"
	"strings"
)

// arenaBlock is the size of an arena's blocks: a chunk of a batch of
// 1,000 16-digit values fills about two.
const arenaBlock = 4096

// textArena makes the strings of one chunk of a large call from blocks
// instead of one allocation each: the value of each fpe item is checked
// and encrypted as a string. A nil arena allocates each string. Strings
// are never written once made: a full block is left to them and a new one
// begun. One string kept keeps its block alive.
type textArena struct {
	b strings.Builder
}

// text returns v as a string.
func (a *textArena) text(v []byte) string {
	if a == nil || len(v) > arenaBlock/4 {
		return string(v)
	}
	if a.b.Cap()-a.b.Len() < len(v) {
		a.b = strings.Builder{}
		a.b.Grow(arenaBlock)
	}
	n := a.b.Len()
	a.b.Write(v)
	return a.b.String()[n:]
}

// byteArena is textArena for byte slices: the values a large detokenize
// call reveals. Each slice's capacity is its length, so appending to one
// never writes over the next.
type byteArena struct {
	block []byte
}

// bytes returns a copy of s.
func (a *byteArena) bytes(s string) []byte {
	if a == nil || len(s) > arenaBlock/4 {
		return []byte(s)
	}
	if cap(a.block)-len(a.block) < len(s) {
		a.block = make([]byte, 0, arenaBlock)
	}
	n := len(a.block)
	a.block = append(a.block, s...)
	return a.block[n:len(a.block):len(a.block)]
}

// recordArena gives the vaulted records of one chunk of a large tokenize
// call their random bytes (identifier and nonce) from one crypto/rand
// read per block, and their sealed values from blocks: two reads and
// two allocations fewer per record. Random bytes are handed out once.
// The store copies what it keeps; one record kept keeps its blocks alive.
type recordArena struct {
	rnd   []byte // random bytes not handed out yet
	block []byte
}

// random returns n fresh random bytes.
func (a *recordArena) random(n int) []byte {
	if len(a.rnd) < n {
		a.rnd = make([]byte, max(arenaBlock, n))
		rand.Read(a.rnd)
	}
	b := a.rnd[:n:n]
	a.rnd = a.rnd[n:]
	return b
}

// buffer returns an empty slice with capacity n.
func (a *recordArena) buffer(n int) []byte {
	if n > arenaBlock/4 {
		return make([]byte, 0, n)
	}
	if cap(a.block)-len(a.block) < n {
		a.block = make([]byte, 0, arenaBlock)
	}
	start := len(a.block)
	a.block = a.block[:start+n]
	return a.block[start : start : start+n]
}
