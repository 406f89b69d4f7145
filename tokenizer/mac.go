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

func newKeyedMAC(key []byte) *keyedMAC {
	k := &keyedMAC{}
	k.pool.New = func() any { return hmac.New(sha256.New, key) }
	return k
}

// sum returns HMAC-SHA256(key, parts...) appended to dst.
func (k *keyedMAC) sum(dst []byte, parts ...[]byte) []byte {
	m := k.pool.Get().(hash.Hash)
	m.Reset()
	for _, p := range parts {
		m.Write(p)
	}
	dst = m.Sum(dst)
	k.pool.Put(m)
	return dst
}
