package fpe

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"math/big"
	"math/bits"
	"slices"
	"sync"
)

// FF31TweakLen is the FF3-1 tweak length in bytes (56 bits).
const FF31TweakLen = 7

const ff3Rounds = 8

// FF31 is the FF3-1 format-preserving cipher of NIST SP 800-38G Rev. 1 with
// AES-128, AES-192 or AES-256 and a 56-bit tweak.
//
// FF3-1 is provided for compatibility with existing data only: NIST's 2025
// draft revision of SP 800-38G drops FF3/FF3-1, so new uses should choose
// FF1. Like FF1 it is deterministic and format-preserving, gives no
// integrity, and wants a tweak unique to the value's context.
//
// An FF31 is safe for concurrent use by multiple goroutines.
type FF31 struct {
	block  cipher.Block // keyed with the byte-reversed key, as FF3 specifies
	rd     radix
	alpha  *alphabet // nil for NewFF31Radix ciphers
	maxLen int
	pool   sync.Pool // *ff3Scratch
}

type ff3Scratch struct {
	in, out [16]byte
	tmp     [16]byte
	nums    []uint16
	buf     []byte
	a, b, c big.Int
	y       big.Int
	mu, mv  big.Int
}

// NewFF31 returns an FF3-1 cipher for strings over alphabet, whose
// characters (distinct runes) are the numerals 0, 1, ... in order; the radix
// is the alphabet's length, 2 to 65536. The key must be 16, 24 or 32 bytes.
// Tweaks must be exactly FF31TweakLen (7) bytes.
func NewFF31(key []byte, alphabet string) (*FF31, error) {
	const op = "NewFF31"
	if _, err := newBlock(op, key); err != nil {
		return nil, err
	}
	a, err := newAlphabet(op, alphabet)
	if err != nil {
		return nil, err
	}
	return newFF31(key, len(a.runes), a), nil
}

// NewFF31Radix returns an FF3-1 cipher for numeral slices in the given
// radix, 2 to 65536. Its string methods return ErrNoAlphabet.
func NewFF31Radix(key []byte, radix int) (*FF31, error) {
	const op = "NewFF31Radix"
	if _, err := newBlock(op, key); err != nil {
		return nil, err
	}
	if err := checkRadix(op, radix); err != nil {
		return nil, err
	}
	return newFF31(key, radix, nil), nil
}

// newFF31 expects a valid key size.
func newFF31(key []byte, radix int, a *alphabet) *FF31 {
	rev := slices.Clone(key)
	slices.Reverse(rev)
	block, _ := newBlock("", rev)
	clear(rev)
	c := &FF31{block: block, rd: newRadix(radix), alpha: a}
	// maxlen = 2·⌊log_radix(2^96)⌋, so each half fits the 96-bit field of P.
	lim := new(big.Int).Lsh(big.NewInt(1), 96)
	p, r := big.NewInt(1), big.NewInt(int64(radix))
	for k := 1; ; k++ {
		if p.Mul(p, r).Cmp(lim) > 0 {
			c.maxLen = 2 * (k - 1)
			break
		}
	}
	c.pool.New = func() any { return new(ff3Scratch) }
	return c
}

// Radix returns the number of distinct numerals.
func (c *FF31) Radix() int { return int(c.rd.r) }

// MinLen returns the shortest accepted input: the least n >= 2 with
// radix^n >= 1,000,000.
func (c *FF31) MinLen() int { return c.rd.minLen }

// MaxLen returns the longest accepted input, 2·⌊log_radix(2^96)⌋.
func (c *FF31) MaxLen() int { return c.maxLen }

// Encrypt encrypts plaintext, a string over the cipher's alphabet, under a
// 7-byte tweak. The result has the same length and alphabet.
func (c *FF31) Encrypt(tweak []byte, plaintext string) (string, error) {
	const op = "FF31.Encrypt"
	if err := checkTweak31(op, tweak); err != nil {
		return "", err
	}
	return c.cryptString(op, expandTweak(tweak), plaintext, true)
}

// Decrypt reverses Encrypt under the same tweak.
func (c *FF31) Decrypt(tweak []byte, ciphertext string) (string, error) {
	const op = "FF31.Decrypt"
	if err := checkTweak31(op, tweak); err != nil {
		return "", err
	}
	return c.cryptString(op, expandTweak(tweak), ciphertext, false)
}

// EncryptNumerals encrypts the numerals src (each below the radix) under a
// 7-byte tweak and appends the result to dst, returning the extended slice.
// src is read completely before dst is written, so dst may be src[:0].
func (c *FF31) EncryptNumerals(dst []uint16, tweak []byte, src []uint16) ([]uint16, error) {
	const op = "FF31.EncryptNumerals"
	if err := checkTweak31(op, tweak); err != nil {
		return nil, err
	}
	return c.cryptNumerals(op, dst, expandTweak(tweak), src, true)
}

// DecryptNumerals reverses EncryptNumerals; dst works as there.
func (c *FF31) DecryptNumerals(dst []uint16, tweak []byte, src []uint16) ([]uint16, error) {
	const op = "FF31.DecryptNumerals"
	if err := checkTweak31(op, tweak); err != nil {
		return nil, err
	}
	return c.cryptNumerals(op, dst, expandTweak(tweak), src, false)
}

func checkTweak31(op string, tweak []byte) error {
	if len(tweak) != FF31TweakLen {
		return newError(op, ErrTweakSize, fmt.Sprintf("got %d bytes, want %d", len(tweak), FF31TweakLen))
	}
	return nil
}

// expandTweak maps FF3-1's 56-bit tweak onto the 64-bit FF3 tweak:
// T[0..2] || T[3]&0xF0 || T[4..6] || (T[3]&0x0F)<<4.
func expandTweak(t []byte) [8]byte {
	return [8]byte{t[0], t[1], t[2], t[3] & 0xF0, t[4], t[5], t[6], t[3] << 4}
}

func (c *FF31) check(op string, n int) error {
	if n < c.rd.minLen {
		return lengthError(op, ErrTooShort, n, c.rd.minLen, c.rd.r)
	}
	if n > c.maxLen {
		return lengthError(op, ErrTooLong, n, c.maxLen, c.rd.r)
	}
	return nil
}

// cryptString is the FF3 core for strings; FF3-1 calls it with the
// expanded tweak, tests with legacy 64-bit FF3 tweaks.
func (c *FF31) cryptString(op string, tweak [8]byte, x string, enc bool) (string, error) {
	a := c.alpha
	if a == nil {
		return "", newError(op, ErrNoAlphabet, "")
	}
	n := a.count(x)
	if err := c.check(op, n); err != nil {
		return "", err
	}
	s := c.pool.Get().(*ff3Scratch)
	defer c.pool.Put(s)
	u, v := n-n/2, n/2
	if a.decimal && c.rd.fast(u) {
		xa, okA := parseDecimal(x[:u], true)
		xb, okB := parseDecimal(x[u:], true)
		if !okA || !okB {
			return "", badCharError(op, firstBadByte(&a.lut, x))
		}
		xa, xb = c.rounds64(s, tweak, u, v, xa, xb, enc)
		s.buf = grow(s.buf, n)
		putDecimal(s.buf[:u], xa, true)
		putDecimal(s.buf[u:], xb, true)
		return string(s.buf), nil
	}
	if a.ascii && c.rd.fast(u) {
		// FF3 reads each half least-significant numeral first (NUM(REV(X))),
		// so parse from the end of each half.
		r, lut := c.rd.r, &a.lut
		var xa, xb uint64
		bad := uint16(0)
		if u > v {
			da := lut[x[u-1]]
			bad |= da & 0x8000
			xa = uint64(da)
		}
		for j := v - 1; j >= 0; j-- {
			da, db := lut[x[j]], lut[x[u+j]]
			bad |= da&0x8000 | db&0x8000
			xa = xa*r + uint64(da)
			xb = xb*r + uint64(db)
		}
		if bad != 0 {
			return "", badCharError(op, firstBadByte(lut, x))
		}
		xa, xb = c.rounds64(s, tweak, u, v, xa, xb, enc)
		s.buf = grow(s.buf, n)
		putDigits(&c.rd, s.buf, a.chars, 0, 1, u, xa)
		putDigits(&c.rd, s.buf, a.chars, u, 1, v, xb)
		return string(s.buf), nil
	}
	nums, bad := a.decode(s.nums[:0], x)
	s.nums = nums
	if bad >= 0 {
		return "", badCharError(op, bad)
	}
	c.crypt(s, tweak, nums, nums, enc)
	s.buf = a.encode(s.buf[:0], nums)
	return string(s.buf), nil
}

func (c *FF31) cryptNumerals(op string, dst []uint16, tweak [8]byte, src []uint16, enc bool) ([]uint16, error) {
	if err := c.check(op, len(src)); err != nil {
		return nil, err
	}
	if err := checkNumerals(op, src, c.rd.r); err != nil {
		return nil, err
	}
	ret, out := sliceForAppend(dst, len(src))
	s := c.pool.Get().(*ff3Scratch)
	c.crypt(s, tweak, src, out, enc)
	c.pool.Put(s)
	return ret, nil
}

// crypt runs FF3 on valid numerals src into dst (len(dst) == len(src); they
// may alias).
func (c *FF31) crypt(s *ff3Scratch, tweak [8]byte, src, dst []uint16, enc bool) {
	n := len(src)
	u, v := n-n/2, n/2
	if !c.rd.fast(u) {
		c.roundsBig(s, tweak, src, dst, enc)
		return
	}
	r := c.rd.r
	var xa, xb uint64
	for j := u - 1; j >= 0; j-- {
		xa = xa*r + uint64(src[j])
	}
	for j := v - 1; j >= 0; j-- {
		xb = xb*r + uint64(src[u+j])
	}
	xa, xb = c.rounds64(s, tweak, u, v, xa, xb, enc)
	putDigits(&c.rd, dst, nil, 0, 1, u, xa)
	putDigits(&c.rd, dst, nil, u, 1, v, xb)
}

// rounds64 runs the eight FF3 rounds with A and B as integers (radix^u <=
// 2^63). CIPH_REVB(K)(REVB(P)) with P = W⊕[i]4 || [NUM(B)]12 means the
// block input is NUM(B) little-endian in bytes 0..11 and W⊕i little-endian
// in bytes 12..15; y = NUM(REVB(out)) is the output read little-endian.
func (c *FF31) rounds64(s *ff3Scratch, tweak [8]byte, u, v int, xa, xb uint64, enc bool) (uint64, uint64) {
	tl := binary.BigEndian.Uint32(tweak[:4])
	tr := binary.BigEndian.Uint32(tweak[4:])
	mu, mv := c.rd.pow[u], c.rd.pow[v]
	gu, gv := c.rd.mag[u], c.rd.mag[v]
	s.in = [16]byte{}
	for k := 0; k < ff3Rounds; k++ {
		i, x := k, xb
		if !enc {
			i, x = ff3Rounds-1-k, xa
		}
		w, mod, mag := tr, mu, gu
		if i&1 != 0 {
			w, mod, mag = tl, mv, gv
		}
		binary.LittleEndian.PutUint64(s.in[:8], x)
		binary.LittleEndian.PutUint32(s.in[12:], w^uint32(i))
		c.block.Encrypt(s.out[:], s.in[:])
		// y mod radix^m: Barrett-reduce the high word so that a single
		// 128/64 divide finishes the job (bits.Rem64 would divide twice).
		yh := barrett(binary.LittleEndian.Uint64(s.out[8:]), mod, mag)
		_, y := bits.Div64(yh, binary.LittleEndian.Uint64(s.out[:8]), mod)
		if enc {
			xa, xb = xb, addMod(xa, y, mod)
		} else {
			xa, xb = subMod(xb, y, mod), xa
		}
	}
	return xa, xb
}

// roundsBig is the FF3 path for halves above 2^63 (at most 2^96).
func (c *FF31) roundsBig(s *ff3Scratch, tweak [8]byte, src, dst []uint16, enc bool) {
	rd := &c.rd
	n := len(src)
	u, v := n-n/2, n/2
	A, B, C := &s.a, &s.b, &s.c
	rd.numBig(A, src[:u], true)
	rd.numBig(B, src[u:], true)
	rd.powBig(&s.mu, u)
	rd.powBig(&s.mv, v)
	tl := binary.BigEndian.Uint32(tweak[:4])
	tr := binary.BigEndian.Uint32(tweak[4:])
	for k := 0; k < ff3Rounds; k++ {
		i, x := k, B
		if !enc {
			i, x = ff3Rounds-1-k, A
		}
		w, mod := tr, &s.mu
		if i&1 != 0 {
			w, mod = tl, &s.mv
		}
		x.FillBytes(s.tmp[:12])
		for j := 0; j < 12; j++ {
			s.in[j] = s.tmp[11-j]
		}
		binary.LittleEndian.PutUint32(s.in[12:], w^uint32(i))
		c.block.Encrypt(s.out[:], s.in[:])
		for j := 0; j < 16; j++ {
			s.tmp[j] = s.out[15-j]
		}
		s.y.SetBytes(s.tmp[:])
		if enc {
			C.Add(A, &s.y).Mod(C, mod)
			A, B, C = B, C, A
		} else {
			C.Sub(B, &s.y).Mod(C, mod)
			A, B, C = C, A, B
		}
	}
	rd.strBig(dst, 0, 1, u, A)
	rd.strBig(dst, u, 1, v, B)
}
