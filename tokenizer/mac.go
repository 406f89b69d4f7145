package tokenizer

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// keyedMAC hands out HMAC-SHA256 states keyed once: resetting one is far
// cheaper than keying a new HMAC for every token of a batch.
type keyedMAC struct{ pool sync.Pool }

// macState is a keyed state and a scratch buffer: the parts are copied
// into the buffer and written at once, so neither they nor dst escape to
// the heap through the hash.Hash interface (per-token allocations showed
// in batch profiles).
type macState struct {
	mac hash.Hash
	buf []byte
}

func newKeyedMAC(key []byte) *keyedMAC {
	k := &keyedMAC{}
	k.pool.New = func() any { return &macState{mac: hmac.New(sha256.New, key), buf: make([]byte, 0, 128)} }
	return k
}

// sum returns HMAC-SHA256(key, parts...) appended to dst.
func (k *keyedMAC) sum(dst []byte, parts ...[]byte) []byte {
	st := k.pool.Get().(*macState)
	b := st.buf[:0]
	for _, p := range parts {
		b = append(b, p...)
	}
	st.mac.Reset()
	st.mac.Write(b)
	b = st.mac.Sum(b[:0])
	dst = append(dst, b...)
	if cap(b) <= 4096 {
		st.buf = b // keep the buffer unless a large value grew it
	}
	k.pool.Put(st)
	return dst
}
