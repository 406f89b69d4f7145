package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
)

// macKey is HMAC-SHA256 (RFC 2104) under one key, computed on
// crypto/sha256's digest with the key's inner and outer states saved
// once. A batch fingerprints every token, and for a short message
// crypto/hmac spends about as long around the three SHA-256 blocks as in
// them: restoring both saved states, Sum copying the digest and writing
// the padding in two more writes. Here the message is padded by hand, so
// a write hashes whole blocks straight away, and the hash is read from
// the digest's saved state (encoding.BinaryAppender), which begins with
// a 4-byte identifier and the eight state words, big-endian: after the
// last padded block they are the hash. newMACKey checks the result
// against crypto/hmac once, and uses crypto/hmac itself should the
// digest not have that shape.
type macKey struct {
	key          []byte
	inner, outer []byte // saved digest states after the ipad and opad blocks
	std          bool   // compute with crypto/hmac (the check failed)
}

const (
	blockSize = sha256.BlockSize
	// stateWords is where the state words lie in a saved state.
	stateWords = 4
)

// newMACKey returns the HMAC-SHA256 of key (of any length).
func newMACKey(key []byte) *macKey {
	k := &macKey{key: bytes.Clone(key)}
	if len(key) > blockSize {
		s := sha256.Sum256(key)
		key = s[:]
	}
	var pad [blockSize]byte
	save := func(x byte) []byte {
		for i := range pad {
			pad[i] = x
		}
		for i, b := range key {
			pad[i] ^= b
		}
		d := sha256.New()
		d.Write(pad[:])
		st, err := d.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return nil
		}
		return st
	}
	k.inner, k.outer = save(0x36), save(0x5c)
	k.std = k.inner == nil || k.outer == nil || !k.agrees()
	return k
}

// agrees reports whether k gives crypto/hmac's result for messages of
// lengths around the block boundaries.
func (k *macKey) agrees() bool {
	st := newMACState()
	msg := make([]byte, 0, 3*blockSize)
	for n := range 3 * blockSize {
		msg = append(msg, byte(n))
		std := hmac.New(sha256.New, k.key)
		std.Write(msg)
		st.buf = append(st.buf[:0], msg...)
		got, ok := k.fast(st)
		if !ok || !hmac.Equal(got[:], std.Sum(nil)) {
			return false
		}
	}
	return true
}

// macState is one goroutine's scratch for macKey.sum: a digest and the
// message buffer. It is not safe for concurrent use.
type macState struct {
	d     hash.Hash
	load  encoding.BinaryUnmarshaler
	saved encoding.BinaryAppender
	buf   []byte          // the message, then its padding
	state [128]byte       // a saved digest state, read back
	outer [blockSize]byte // the outer hash's one block
	sum   [sha256.Size]byte
	std   hash.Hash // crypto/hmac's, made on first use when macKey.std
}

func newMACState() *macState {
	d := sha256.New()
	st := &macState{d: d, buf: make([]byte, 0, 256)}
	st.load, _ = d.(encoding.BinaryUnmarshaler)
	st.saved, _ = d.(encoding.BinaryAppender)
	return st
}

// sum returns the HMAC of the message in st.buf (which it may append to).
func (k *macKey) sum(st *macState) [sha256.Size]byte {
	n := len(st.buf) // fast appends the padding, failed or not
	if !k.std {
		if s, ok := k.fast(st); ok {
			return s
		}
	}
	if st.std == nil {
		st.std = hmac.New(sha256.New, k.key)
	}
	st.std.Reset()
	st.std.Write(st.buf[:n])
	st.std.Sum(st.sum[:0])
	return st.sum
}

// fast is sum on saved states; ok is false when the digest cannot be
// saved and restored.
func (k *macKey) fast(st *macState) (s [sha256.Size]byte, ok bool) {
	if st.load == nil || st.saved == nil {
		return s, false
	}
	st.buf = pad(st.buf, blockSize+len(st.buf))
	if !hashBlocks(st, k.inner, st.buf, &s) {
		return s, false
	}
	copy(st.outer[:], s[:])
	pad(st.outer[:sha256.Size], blockSize+sha256.Size)
	if !hashBlocks(st, k.outer, st.outer[:], &s) {
		return s, false
	}
	return s, true
}

// hashBlocks continues the saved state from with blocks (whole padded
// blocks) and puts the resulting state words, the hash, in out.
func hashBlocks(st *macState, from, blocks []byte, out *[sha256.Size]byte) bool {
	if st.load.UnmarshalBinary(from) != nil {
		return false
	}
	st.d.Write(blocks)
	b, err := st.saved.AppendBinary(st.state[:0])
	if err != nil || len(b) < stateWords+sha256.Size {
		return false
	}
	copy(out[:], b[stateWords:])
	return true
}

// pad appends SHA-256's padding to b, the end of a message of n bytes in
// all: 0x80, zeros to 8 bytes short of a block, the length in bits.
func pad(b []byte, n int) []byte {
	b = append(b, 0x80)
	var zeros [blockSize]byte
	b = append(b, zeros[:(2*blockSize-8-len(b)%blockSize)%blockSize]...)
	return binary.BigEndian.AppendUint64(b, uint64(n)*8)
}
