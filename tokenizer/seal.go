package tokenizer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
)

// Sealer encrypts values of one class under one data-key version with
// AES-256-GCM. The class name and the token identifier are bound as
// associated data: a sealed value moved to another token or class does not
// open.
type Sealer struct {
	class string
	aead  cipher.AEAD
}

// NewSealer returns a Sealer for class with a 32-byte key.
func NewSealer(class string, key []byte) (*Sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: sealer: %w", err)
	}
	return &Sealer{class: class, aead: aead}, nil
}

// Seal returns nonce || ciphertext of value for token identifier id. The
// 96-bit nonce is random; at 2^32 seals per key version the collision
// risk stays below NIST's 2^-32 bound, and rotation resets the count.
func (s *Sealer) Seal(id, value []byte) []byte {
	ns := s.aead.NonceSize()
	out := make([]byte, ns, ns+len(value)+s.aead.Overhead())
	rand.Read(out[:ns])
	return s.aead.Seal(out, out[:ns], value, s.ad(id))
}

// NonceSize is the size of a sealed value's nonce.
const NonceSize = 12

// SealedLen is the length of the sealing of a value of n bytes.
func (s *Sealer) SealedLen(n int) int { return s.aead.NonceSize() + n + s.aead.Overhead() }

// AppendSeal appends to dst what Seal returns, with the given nonce: it
// must be NonceSize bytes from crypto/rand, used for nothing else. A batch
// draws its nonces with one read and cuts its sealed values from one
// buffer (dst's capacity).
func (s *Sealer) AppendSeal(dst, nonce, id, value []byte) []byte {
	if len(nonce) != s.aead.NonceSize() {
		panic("tokenizer: AppendSeal: nonce of the wrong size")
	}
	start := len(dst)
	dst = append(dst, nonce...)
	return s.aead.Seal(dst, dst[start:], value, s.ad(id))
}

// Open returns the value sealed for id, or ErrDecrypt.
func (s *Sealer) Open(id, sealed []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < ns+s.aead.Overhead() {
		return nil, ErrDecrypt
	}
	v, err := s.aead.Open(nil, sealed[:ns], sealed[ns:], s.ad(id))
	if err != nil {
		return nil, ErrDecrypt
	}
	return v, nil
}

func (s *Sealer) ad(id []byte) []byte {
	ad := make([]byte, 0, len("privacyvault/v1|")+len(s.class)+1+len(id))
	ad = append(ad, "privacyvault/v1|"...)
	ad = append(ad, s.class...)
	ad = append(ad, '|')
	return append(ad, id...)
}

// Indexer computes the deterministic index of a value: HMAC-SHA256 under a
// class index key. Equal values in one class give equal indexes; the index
// reveals nothing about the value without the key.
type Indexer struct {
	mac *keyedMAC
}

// NewIndexer returns an Indexer with a 32-byte key.
func NewIndexer(key []byte) *Indexer { return &Indexer{mac: newKeyedMAC(key)} }

// Index returns the index of value.
func (x *Indexer) Index(value []byte) []byte {
	return x.AppendIndex(make([]byte, 0, sha256.Size), value)
}

// AppendIndex appends the index of value (IndexSize bytes) to dst: a
// batch takes its indexes from shared blocks, not one allocation each.
func (x *Indexer) AppendIndex(dst, value []byte) []byte { return x.mac.sum(dst, value) }

// IndexSize is the length of an index.
const IndexSize = sha256.Size
