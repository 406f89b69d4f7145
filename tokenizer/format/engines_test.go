package format

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// Fake engines. None is secure; they are deterministic permutations (or a
// one-way function) whose behaviour the tests can predict.

// shiftEngine shifts the character at position i by a key-, tweak- and
// position-dependent amount in [1, radix-1], so no character maps to itself.
// It is easy to follow by hand, which the concrete token tables rely on.
type shiftEngine struct{ key string }

func (e shiftEngine) shift(alphabet string, tweak []byte, i int) int {
	t := 0
	for _, b := range tweak {
		t += int(b)
	}
	return 1 + (int(e.key[i%len(e.key)])+t+i)%(len(alphabet)-1)
}

func (e shiftEngine) Encrypt(alphabet string, tweak []byte, s string) (string, error) {
	return e.run(alphabet, tweak, s, 1)
}

func (e shiftEngine) Decrypt(alphabet string, tweak []byte, s string) (string, error) {
	return e.run(alphabet, tweak, s, -1)
}

func (e shiftEngine) run(alphabet string, tweak []byte, s string, sign int) (string, error) {
	r := len(alphabet)
	out := make([]byte, len(s))
	for i := range len(s) {
		ix := strings.IndexByte(alphabet, s[i])
		if ix < 0 {
			return "", errors.New("shiftEngine: character not in alphabet")
		}
		out[i] = alphabet[((ix+sign*e.shift(alphabet, tweak, i))%r+r)%r]
	}
	return string(out), nil
}

// feistelEngine is a 10-round FF1-shaped Feistel network over numeral strings
// with HMAC-SHA256 as round function: a realistic pseudo-random permutation.
type feistelEngine struct{ key []byte }

func (e feistelEngine) Encrypt(alphabet string, tweak []byte, s string) (string, error) {
	return e.run(alphabet, tweak, s, false)
}

func (e feistelEngine) Decrypt(alphabet string, tweak []byte, s string) (string, error) {
	return e.run(alphabet, tweak, s, true)
}

func (e feistelEngine) run(alphabet string, tweak []byte, s string, decrypt bool) (string, error) {
	if len(s) < 2 {
		return "", errors.New("feistelEngine: string too short")
	}
	radix := big.NewInt(int64(len(alphabet)))
	num := func(x string) *big.Int {
		n := new(big.Int)
		for i := range len(x) {
			n.Mul(n, radix).Add(n, big.NewInt(int64(strings.IndexByte(alphabet, x[i]))))
		}
		return n
	}
	str := func(n *big.Int, m int) string {
		out := make([]byte, m)
		n = new(big.Int).Set(n)
		r := new(big.Int)
		for i := m - 1; i >= 0; i-- {
			n.QuoRem(n, radix, r)
			out[i] = alphabet[r.Int64()]
		}
		return string(out)
	}
	prf := func(round int, b string, m int) *big.Int {
		h := hmac.New(sha256.New, e.key)
		h.Write([]byte(alphabet))
		h.Write([]byte{0, byte(len(tweak))})
		h.Write(tweak)
		h.Write([]byte{byte(round)})
		h.Write([]byte(b))
		mod := new(big.Int).Exp(radix, big.NewInt(int64(m)), nil)
		return new(big.Int).Mod(new(big.Int).SetBytes(h.Sum(nil)), mod)
	}
	for i := range len(s) {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			return "", errors.New("feistelEngine: character not in alphabet")
		}
	}
	u, v := len(s)/2, len(s)-len(s)/2
	size := func(round int) int {
		if round%2 == 0 {
			return u
		}
		return v
	}
	a, b := s[:u], s[u:]
	if !decrypt {
		for i := range 10 {
			m := size(i)
			mod := new(big.Int).Exp(radix, big.NewInt(int64(m)), nil)
			c := new(big.Int).Add(num(a), prf(i, b, m))
			a, b = b, str(c.Mod(c, mod), m)
		}
		return a + b, nil
	}
	for i := 9; i >= 0; i-- {
		m := size(i)
		mod := new(big.Int).Exp(radix, big.NewInt(int64(m)), nil)
		c := new(big.Int).Sub(num(b), prf(i, a, m))
		a, b = str(c.Mod(c, mod), m), a
	}
	return a + b, nil
}

// identityEngine maps every string to itself: every value is a fixed point.
type identityEngine struct{}

func (identityEngine) Encrypt(_ string, _ []byte, s string) (string, error) { return s, nil }
func (identityEngine) Decrypt(_ string, _ []byte, s string) (string, error) { return s, nil }

// fixedEngine is inner with the strings in fixed made fixed points: on the
// other strings it cycle-walks inner past them, which is still a permutation.
type fixedEngine struct {
	inner Engine
	fixed map[string]bool
}

func (e fixedEngine) Encrypt(alphabet string, tweak []byte, s string) (string, error) {
	return e.run(e.inner.Encrypt, alphabet, tweak, s)
}

func (e fixedEngine) Decrypt(alphabet string, tweak []byte, s string) (string, error) {
	return e.run(e.inner.Decrypt, alphabet, tweak, s)
}

func (e fixedEngine) run(f func(string, []byte, string) (string, error), alphabet string, tweak []byte, s string) (string, error) {
	if e.fixed[s] {
		return s, nil
	}
	for {
		var err error
		if s, err = f(alphabet, tweak, s); err != nil || !e.fixed[s] {
			return s, err
		}
	}
}

// hashEngine is a keyed one-way function, as in hash mode.
type hashEngine struct{ key []byte }

func (e hashEngine) Encrypt(alphabet string, tweak []byte, s string) (string, error) {
	out := make([]byte, len(s))
	var block []byte
	for i := range out {
		if i%32 == 0 {
			h := hmac.New(sha256.New, e.key)
			h.Write([]byte{byte(i / 32), byte(len(tweak))})
			h.Write(tweak)
			h.Write([]byte(alphabet + "|" + s))
			block = h.Sum(nil)
		}
		out[i] = alphabet[int(block[i%32])%len(alphabet)]
	}
	return string(out), nil
}

func (hashEngine) Decrypt(string, []byte, string) (string, error) { return "", ErrIrreversible }

// errEngine fails with a message that echoes its input, as a careless Engine might.
type errEngine struct{}

var errBoom = errors.New("boom")

func (errEngine) Encrypt(_ string, _ []byte, s string) (string, error) {
	return "", errors.Join(errBoom, errors.New("bad input "+s))
}
func (e errEngine) Decrypt(a string, t []byte, s string) (string, error) { return e.Encrypt(a, t, s) }

// shortEngine returns a string one character short.
type shortEngine struct{}

func (shortEngine) Encrypt(_ string, _ []byte, s string) (string, error) { return s[1:], nil }
func (shortEngine) Decrypt(_ string, _ []byte, s string) (string, error) { return s[1:], nil }

var (
	shift   = shiftEngine{key: "k3y!"}
	feistel = feistelEngine{key: []byte("test key")}
	tweak   = []byte("tw")
)

func TestFakeEnginesAreInverses(t *testing.T) {
	tests := []struct {
		name     string
		e        Engine
		alphabet string
		s        string
	}{
		{"shift digits", shift, decimal, "0123456789"},
		{"shift alnum", shift, alnumCharset.alphabet, "hello42world"},
		{"feistel digits", feistel, decimal, "0123456789"},
		{"feistel odd length", feistel, decimal, "1234567"},
		{"feistel alnum", feistel, alnumCharset.alphabet, "hello42world"},
		{"fixed", fixedEngine{feistel, map[string]bool{"123456": true}}, decimal, "654321"},
	}
	for _, tt := range tests {
		enc, err := tt.e.Encrypt(tt.alphabet, tweak, tt.s)
		if err != nil {
			t.Fatalf("%s: Encrypt(%q) error: %v", tt.name, tt.s, err)
		}
		dec, err := tt.e.Decrypt(tt.alphabet, tweak, enc)
		if err != nil || dec != tt.s || enc == tt.s {
			t.Errorf("%s: Decrypt(Encrypt(%q) = %q) = %q, %v; want %q", tt.name, tt.s, enc, dec, err, tt.s)
		}
	}
}
