package tokenizer

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/privacyvault/privacyvault/tokenizer/format"
	"github.com/privacyvault/privacyvault/tokenizer/fpe"
)

var (
	_ format.Engine = (*FF1Engine)(nil)
	_ format.Engine = (*FF31Engine)(nil)
	_ format.Engine = (*HashEngine)(nil)
)

// FF1Engine is the format.Engine of the fpe mode: NIST FF1 with AES-256
// under one class key. Ciphers are built once per alphabet and reused.
type FF1Engine struct{ cipherEngine[*fpe.FF1] }

// NewFF1Engine returns an FF1 engine with a 32-byte key.
func NewFF1Engine(key []byte) *FF1Engine {
	return &FF1Engine{cipherEngine[*fpe.FF1]{key: key, build: fpe.NewFF1}}
}

// FF31Engine is the FF3-1 compatibility engine: the tweak must be the
// 7 bytes the caller used elsewhere (for example with HashiCorp Vault's
// Transform engine). FF1 is the default; NIST's 2025 draft drops FF3.
type FF31Engine struct{ cipherEngine[*fpe.FF31] }

// NewFF31Engine returns an FF3-1 engine with a 32-byte key.
func NewFF31Engine(key []byte) *FF31Engine {
	return &FF31Engine{cipherEngine[*fpe.FF31]{key: key, build: fpe.NewFF31}}
}

// fpeCipher is what FF1 and FF3-1 have in common.
type fpeCipher interface {
	Encrypt(tweak []byte, s string) (string, error)
	Decrypt(tweak []byte, s string) (string, error)
}

// cipherEngine adapts an FPE cipher type to format.Engine, building one
// cipher per alphabet on first use.
type cipherEngine[C fpeCipher] struct {
	key     []byte
	build   func(key []byte, alphabet string) (C, error)
	ciphers sync.Map // alphabet → C
	// last is the cipher used last: a class has one alphabet, and the map
	// hashes the alphabet on every lookup, a tenth of FF1's time on 16
	// digits in a batch.
	last atomic.Pointer[alphabetCipher[C]]
}

// alphabetCipher is a cipher with its alphabet.
type alphabetCipher[C fpeCipher] struct {
	alphabet string
	c        C
}

func (e *cipherEngine[C]) cipher(alphabet string) (C, error) {
	if l := e.last.Load(); l != nil && l.alphabet == alphabet {
		return l.c, nil
	}
	if c, ok := e.ciphers.Load(alphabet); ok {
		e.last.Store(&alphabetCipher[C]{alphabet, c.(C)})
		return c.(C), nil
	}
	c, err := e.build(e.key, alphabet)
	if err != nil {
		return c, err
	}
	actual, _ := e.ciphers.LoadOrStore(alphabet, c)
	return actual.(C), nil
}

// Encrypt implements format.Engine.
func (e *cipherEngine[C]) Encrypt(alphabet string, tweak []byte, s string) (string, error) {
	c, err := e.cipher(alphabet)
	if err != nil {
		return "", err
	}
	return c.Encrypt(tweak, s)
}

// Decrypt implements format.Engine.
func (e *cipherEngine[C]) Decrypt(alphabet string, tweak []byte, s string) (string, error) {
	c, err := e.cipher(alphabet)
	if err != nil {
		return "", err
	}
	return c.Decrypt(tweak, s)
}

// HashEngine is the one-way engine of the hash mode: each output string is
// drawn from HMAC-SHA256(key, alphabet, tweak, input) by rejection sampling,
// so it is uniform over the alphabet, keyed (no dictionary attack without
// the key) and deterministic. Decrypt always fails with
// format.ErrIrreversible.
type HashEngine struct {
	key []byte
}

// NewHashEngine returns a hash engine with a 32-byte key.
func NewHashEngine(key []byte) *HashEngine { return &HashEngine{key: key} }

// Encrypt implements format.Engine.
func (e *HashEngine) Encrypt(alphabet string, tweak []byte, s string) (string, error) {
	seed := e.seed(alphabet, tweak, s)
	radix := uint32(len(alphabet))
	limit := 65536 - 65536%radix // reject above this so v % radix is uniform
	out := make([]byte, 0, len(s))
	var block []byte
	for ctr := uint32(0); len(out) < len(s); ctr++ {
		m := hmac.New(sha256.New, e.key)
		m.Write(seed)
		m.Write(binary.BigEndian.AppendUint32(nil, ctr))
		block = m.Sum(block[:0])
		for i := 0; i+1 < len(block) && len(out) < len(s); i += 2 {
			v := uint32(binary.BigEndian.Uint16(block[i:]))
			if v < limit {
				out = append(out, alphabet[v%radix])
			}
		}
	}
	return string(out), nil
}

// Decrypt implements format.Engine: hash pseudonyms cannot be reversed.
func (e *HashEngine) Decrypt(string, []byte, string) (string, error) {
	return "", format.ErrIrreversible
}

func (e *HashEngine) seed(alphabet string, tweak []byte, s string) []byte {
	m := hmac.New(sha256.New, e.key)
	for _, part := range [][]byte{[]byte("privacyvault/hash/v1"), []byte(alphabet), tweak, []byte(s)} {
		m.Write(binary.BigEndian.AppendUint32(nil, uint32(len(part))))
		m.Write(part)
	}
	return m.Sum(nil)
}
