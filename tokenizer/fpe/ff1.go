package fpe

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"unsafe"
)

// SP 800-38G allows FF1 inputs and tweaks up to 2^32-1 numerals and bytes.
// These caps bound the work one call can be made to do (the math/big path is
// quadratic in the length); real-world tokens are far shorter.
const (
	// MaxFF1Len is the longest FF1 input accepted, in numerals.
	MaxFF1Len = 1 << 14
	// MaxFF1TweakLen is the longest FF1 tweak accepted, in bytes.
	MaxFF1TweakLen = 1 << 14
)

const ff1Rounds = 10

// FF1 is the FF1 format-preserving cipher of NIST SP 800-38G Rev. 1 with
// AES-128, AES-192 or AES-256.
//
// It is deterministic: the same key, tweak and input always give the same
// output, of the same length and over the same alphabet. Use a tweak that is
// unique to the context of the value (e.g. tenant and field), so equal values
// in different contexts encrypt differently. FF1 provides no integrity:
// decrypting a modified ciphertext silently yields a different plaintext.
//
// An FF1 is safe for concurrent use by multiple goroutines.
type FF1 struct {
	block cipher.Block
	rd    radix
	alpha *alphabet // nil for NewFF1Radix ciphers
	pool  sync.Pool // *ff1Scratch, so steady-state calls do not allocate
	// ks is the expanded key for the assembly rounds (rounds64Asm), nil
	// where they cannot run.
	ks *aesSchedule
	// pc caches CIPH(P) per input shape; see cipherP.
	pc [pCacheSize]atomic.Pointer[pBlock]
}

// pCacheSize is how many input shapes (n, t) an FF1 remembers CIPH(P) for.
// Shapes share a slot only if n+t agrees mod pCacheSize, so 16 slots keep
// any 16 consecutive lengths at one tweak length apart.
const pCacheSize = 16

// pBlock is CIPH(P) for n numerals and a t-byte tweak. It is immutable once
// published in FF1.pc.
type pBlock struct {
	n, t int
	enc  [16]byte
	// key0 is enc ⊕ round key 0 as little-endian words, for rounds64Asm.
	key0 [2]uint64
}

// ff1Scratch is per-call working memory. It lives on the heap (via the pool)
// because buffers passed to cipher.Block.Encrypt escape.
type ff1Scratch struct {
	in, out [16]byte
	state   [16]byte
	nums    []uint16
	buf     []byte
	q, s    []byte
	a, b    big.Int
	c, y    big.Int
	mu, mv  big.Int
}

// NewFF1 returns an FF1 cipher for strings over alphabet, whose characters
// (distinct runes) are the numerals 0, 1, ... in order; the radix is the
// alphabet's length, 2 to 65536. The key must be 16, 24 or 32 bytes.
func NewFF1(key []byte, alphabet string) (*FF1, error) {
	const op = "NewFF1"
	block, err := newBlock(op, key)
	if err != nil {
		return nil, err
	}
	a, err := newAlphabet(op, alphabet)
	if err != nil {
		return nil, err
	}
	return newFF1(block, key, len(a.runes), a), nil
}

// NewFF1Radix returns an FF1 cipher for numeral slices in the given radix,
// 2 to 65536. Its string methods return ErrNoAlphabet.
func NewFF1Radix(key []byte, radix int) (*FF1, error) {
	const op = "NewFF1Radix"
	block, err := newBlock(op, key)
	if err != nil {
		return nil, err
	}
	if err := checkRadix(op, radix); err != nil {
		return nil, err
	}
	return newFF1(block, key, radix, nil), nil
}

func newFF1(block cipher.Block, key []byte, radix int, a *alphabet) *FF1 {
	c := &FF1{block: block, rd: newRadix(radix), alpha: a}
	if useAsm {
		c.ks = newAESSchedule(key)
	}
	c.pool.New = func() any { return new(ff1Scratch) }
	return c
}

// Radix returns the number of distinct numerals.
func (c *FF1) Radix() int { return int(c.rd.r) }

// MinLen returns the shortest accepted input: the least n >= 2 with
// radix^n >= 1,000,000.
func (c *FF1) MinLen() int { return c.rd.minLen }

// MaxLen returns the longest accepted input, MaxFF1Len.
func (c *FF1) MaxLen() int { return MaxFF1Len }

// Encrypt encrypts plaintext, a string over the cipher's alphabet, under
// tweak (0 to MaxFF1TweakLen bytes). The result has the same length and
// alphabet.
func (c *FF1) Encrypt(tweak []byte, plaintext string) (string, error) {
	return c.cryptString("FF1.Encrypt", tweak, plaintext, true)
}

// Decrypt reverses Encrypt under the same tweak.
func (c *FF1) Decrypt(tweak []byte, ciphertext string) (string, error) {
	return c.cryptString("FF1.Decrypt", tweak, ciphertext, false)
}

// EncryptNumerals encrypts the numerals src (each below the radix) under
// tweak and appends the result to dst, returning the extended slice. src is
// read completely before dst is written, so dst may be src[:0] to encrypt
// in place.
func (c *FF1) EncryptNumerals(dst []uint16, tweak []byte, src []uint16) ([]uint16, error) {
	return c.cryptNumerals("FF1.EncryptNumerals", dst, tweak, src, true)
}

// DecryptNumerals reverses EncryptNumerals; dst works as there.
func (c *FF1) DecryptNumerals(dst []uint16, tweak []byte, src []uint16) ([]uint16, error) {
	return c.cryptNumerals("FF1.DecryptNumerals", dst, tweak, src, false)
}

func (c *FF1) check(op string, n, t int) error {
	if n < c.rd.minLen || n > MaxFF1Len || t > MaxFF1TweakLen {
		return c.checkError(op, n, t)
	}
	return nil
}

func (c *FF1) checkError(op string, n, t int) error {
	if n < c.rd.minLen {
		return lengthError(op, ErrTooShort, n, c.rd.minLen, c.rd.r)
	}
	if n > MaxFF1Len {
		return lengthError(op, ErrTooLong, n, MaxFF1Len, c.rd.r)
	}
	if t > MaxFF1TweakLen {
		return newError(op, ErrTweakSize, fmt.Sprintf("got %d bytes, maximum %d", t, MaxFF1TweakLen))
	}
	return nil
}

func (c *FF1) cryptString(op string, tweak []byte, x string, enc bool) (string, error) {
	a := c.alpha
	if a == nil {
		return "", newError(op, ErrNoAlphabet, "")
	}
	n := a.count(x)
	if err := c.check(op, n, len(tweak)); err != nil {
		return "", err
	}
	// Fast paths: parse straight into two integers and format straight out
	// of them; the only allocation is the result string.
	if v := n - n/2; c.rd.fast(v) {
		if a.decimal {
			return c.cryptDecimal(op, tweak, x, enc)
		}
		if a.ascii {
			return c.cryptASCII(op, tweak, x, enc)
		}
	}
	s := c.pool.Get().(*ff1Scratch)
	defer c.pool.Put(s)
	nums, bad := a.decode(s.nums[:0], x)
	s.nums = nums
	if bad >= 0 {
		return "", badCharError(op, bad)
	}
	c.crypt(s, tweak, nums, nums, enc)
	s.buf = a.encode(s.buf[:0], nums)
	return string(s.buf), nil
}

// cryptDecimal is cryptString for the decimal alphabet with halves that fit
// in a uint64, at most 2·18 digits.
func (c *FF1) cryptDecimal(op string, tweak []byte, x string, enc bool) (string, error) {
	n := len(x)
	u := n / 2
	switch {
	case n == 16:
		// Card-number length: each half is one SWAR word, parsed and
		// formatted inline (the loops of parseDecimal and putDecimal are
		// calls, on the critical path before and after the rounds).
		wa, wb := load8(x, 0), load8(x, 8)
		if !isDigits8(wa) || !isDigits8(wb) {
			return "", badCharError(op, firstBadByte(&c.alpha.lut, x))
		}
		xa, xb, out := c.rounds64String(tweak, n, value8(wa), value8(wb), enc)
		binary.LittleEndian.PutUint64(out, digits8(xa))
		binary.LittleEndian.PutUint64(out[8:], digits8(xb))
		return unsafe.String(&out[0], n), nil
	case n >= 8 && n < 16:
		// The same for halves of fewer than 8 digits (card middles): A is
		// read from x[0:8] shifted up so that its u digits come last, B
		// from x[n-8:n]; the bytes of the other half read as leading zeros.
		padA, padB := 8*uint(8-u), 8*uint(8-(n-u)) // bits: 8-u and 8-v digits
		wa := load8(x, 0)<<padA | zeros8&(1<<padA-1)
		wb := load8(x, n-8)&^(1<<padB-1) | zeros8&(1<<padB-1)
		if !isDigits8(wa) || !isDigits8(wb) {
			return "", badCharError(op, firstBadByte(&c.alpha.lut, x))
		}
		xa, xb, out := c.rounds64String(tweak, n, value8(wa), value8(wb), enc)
		// The two stores overlap: B's word first, then A's, whose bytes
		// past u are B's first digits.
		da, db := digits8(xa)>>padA, digits8(xb)
		binary.LittleEndian.PutUint64(out[n-8:], db)
		binary.LittleEndian.PutUint64(out, da|db&^(1<<padB-1)<<(8*uint(n-8)))
		return unsafe.String(&out[0], n), nil
	}
	xa, okA := parseDecimal(x[:u], false)
	xb, okB := parseDecimal(x[u:], false)
	if !okA || !okB {
		return "", badCharError(op, firstBadByte(&c.alpha.lut, x))
	}
	xa, xb, out := c.rounds64String(tweak, n, xa, xb, enc)
	putDecimal(out[:u], xa, false)
	putDecimal(out[u:], xb, false)
	return unsafe.String(&out[0], n), nil
}

// cryptASCII is cryptString for other ASCII alphabets with halves that fit
// in a uint64, at most 2·63 numerals (radix 2).
func (c *FF1) cryptASCII(op string, tweak []byte, x string, enc bool) (string, error) {
	n := len(x)
	u, v := n/2, n-n/2
	r, lut := c.rd.r, &c.alpha.lut
	var xa, xb uint64
	bad := uint16(0)
	for i := 0; i < u; i++ {
		da, db := lut[x[i]], lut[x[u+i]]
		bad |= da&0x8000 | db&0x8000 // noNumeral has the top bit set
		xa = xa*r + uint64(da)
		xb = xb*r + uint64(db)
	}
	if v > u {
		db := lut[x[n-1]]
		bad |= db & 0x8000
		xb = xb*r + uint64(db)
	}
	if bad != 0 {
		return "", badCharError(op, firstBadByte(lut, x))
	}
	xa, xb, out := c.rounds64String(tweak, n, xa, xb, enc)
	putDigits(&c.rd, out, c.alpha.chars, u-1, -1, u, xa)
	putDigits(&c.rd, out, c.alpha.chars, n-1, -1, v, xb)
	return unsafe.String(&out[0], n), nil
}

func (c *FF1) cryptNumerals(op string, dst []uint16, tweak []byte, src []uint16, enc bool) ([]uint16, error) {
	if err := c.check(op, len(src), len(tweak)); err != nil {
		return nil, err
	}
	if err := checkNumerals(op, src, c.rd.r); err != nil {
		return nil, err
	}
	ret, out := sliceForAppend(dst, len(src))
	s := c.pool.Get().(*ff1Scratch)
	c.crypt(s, tweak, src, out, enc)
	c.pool.Put(s)
	return ret, nil
}

// crypt runs FF1 on valid numerals src into dst (len(dst) == len(src); they
// may alias).
func (c *FF1) crypt(s *ff1Scratch, tweak []byte, src, dst []uint16, enc bool) {
	n := len(src)
	u, v := n/2, n-n/2
	if !c.rd.fast(v) {
		c.roundsBig(s, tweak, src, dst, enc)
		return
	}
	r := c.rd.r
	var xa, xb uint64
	for i := 0; i < u; i++ {
		xa = xa*r + uint64(src[i])
		xb = xb*r + uint64(src[u+i])
	}
	if v > u {
		xb = xb*r + uint64(src[n-1])
	}
	xa, xb = c.rounds64(s, tweak, n, xa, xb, enc)
	putDigits(&c.rd, dst, nil, u-1, -1, u, xa)
	putDigits(&c.rd, dst, nil, n-1, -1, v, xb)
}

// prefix returns, as two big-endian words, the CBC-MAC state after P and
// the leading blocks of Q that hold only tweak bytes and padding, which are
// the same in all ten rounds. It also returns that prefix's length in Q and
// Q's total length; Q = T || 0^pad || [i]1 || [NUM(B)]b.
func (c *FF1) prefix(s *ff1Scratch, tweak []byte, n, b int) (hi, lo uint64, cut, qlen int) {
	t := len(tweak)
	pEnc := &c.cipherP(n, t).enc
	qlen = t + (-(t + b + 1))&15 + 1 + b
	cut = (qlen - 1 - b) &^ 15
	hi, lo = binary.BigEndian.Uint64(pEnc[:8]), binary.BigEndian.Uint64(pEnc[8:])
	for off := 0; off < cut; off += 16 {
		binary.BigEndian.PutUint64(s.state[:8], hi^tweakWord(tweak, off))
		binary.BigEndian.PutUint64(s.state[8:], lo^tweakWord(tweak, off+8))
		c.block.Encrypt(s.state[:], s.state[:])
		hi, lo = binary.BigEndian.Uint64(s.state[:8]), binary.BigEndian.Uint64(s.state[8:])
	}
	return hi, lo, cut, qlen
}

// cipherP returns CIPH(P) for n numerals and a t-byte tweak. P depends only
// on the radix, n and t, and a cipher typically sees few shapes, so results
// are cached in a small direct-mapped table: a hit is one atomic load; a
// miss costs one AES call and one allocation, and publishes a new entry
// (entries never change once published, so readers need no lock).
func (c *FF1) cipherP(n, t int) *pBlock {
	if e := c.pc[uint(n+t)%pCacheSize].Load(); e != nil && e.n == n && e.t == t {
		return e
	}
	return c.newPBlock(n, t)
}

// newPBlock computes CIPH(P) for n and t and caches it.
func (c *FF1) newPBlock(n, t int) *pBlock {
	e := &pBlock{n: n, t: t}
	p, r := e.enc[:], c.rd.r
	p[0], p[1], p[2] = 1, 2, 1
	p[3], p[4], p[5] = byte(r>>16), byte(r>>8), byte(r)
	p[6], p[7] = 10, byte(n/2)
	binary.BigEndian.PutUint32(p[8:], uint32(n))
	binary.BigEndian.PutUint32(p[12:], uint32(t))
	c.block.Encrypt(p, p)
	if c.ks != nil {
		k0 := &c.ks.rk[0]
		e.key0[0] = binary.LittleEndian.Uint64(p[:8]) ^ binary.LittleEndian.Uint64(k0[:8])
		e.key0[1] = binary.LittleEndian.Uint64(p[8:]) ^ binary.LittleEndian.Uint64(k0[8:])
	}
	c.pc[uint(n+t)%pCacheSize].Store(e)
	return e
}

// tweakWord returns Q[off:off+8] as a big-endian word, counting only tweak
// bytes (the rest of Q there is zero padding or per-round data).
func tweakWord(tweak []byte, off int) uint64 {
	if off+8 <= len(tweak) {
		return binary.BigEndian.Uint64(tweak[off:])
	}
	var w uint64
	for j := off; j < off+8; j++ {
		w <<= 8
		if j < len(tweak) {
			w |= uint64(tweak[j])
		}
	}
	return w
}

// rounds64String is rounds64 for the string methods, which need no scratch
// memory when the assembly rounds apply. It also returns a new n-byte
// buffer for the result, which the caller fills and turns into the string
// without a copy (its only allocation).
func (c *FF1) rounds64String(tweak []byte, n int, xa, xb uint64, enc bool) (uint64, uint64, []byte) {
	if b := c.rd.blen[n-n/2]; c.asmOK(len(tweak), b) {
		return c.rounds64Asm(tweak, n, b, xa, xb, enc, n)
	}
	xa, xb = c.rounds64Pooled(tweak, n, xa, xb, enc)
	return xa, xb, make([]byte, n)
}

func (c *FF1) rounds64Pooled(tweak []byte, n int, xa, xb uint64, enc bool) (uint64, uint64) {
	s := c.pool.Get().(*ff1Scratch)
	xa, xb = c.rounds64(s, tweak, n, xa, xb, enc)
	c.pool.Put(s)
	return xa, xb
}

// rounds64 runs the ten Feistel rounds on A and B held as integers; it needs
// radix^v <= 2^63, so b <= 8, d <= 12 and Q's round bytes fit in one block.
func (c *FF1) rounds64(s *ff1Scratch, tweak []byte, n int, xa, xb uint64, enc bool) (uint64, uint64) {
	rd := &c.rd
	u, v := n/2, n-n/2
	b := rd.blen[v]
	if c.asmOK(len(tweak), b) {
		xa, xb, _ = c.rounds64Asm(tweak, n, b, xa, xb, enc, 0)
		return xa, xb
	}
	hi, lo, cut, _ := c.prefix(s, tweak, n, b)
	// Each round's input block is the CBC state xored with Q's last block:
	// the tweak tail, the round number and NUM(B). Precompute all but
	// NUM(B); the block is built in registers because a stored-then-reloaded
	// block would stall store-to-load forwarding.
	hi ^= tweakWord(tweak, cut)
	lo ^= tweakWord(tweak, cut+8)
	var rhi, rlo [ff1Rounds]uint64
	for i := range ff1Rounds {
		rhi[i], rlo[i] = hi, lo
		if b < 8 {
			rlo[i] ^= uint64(i) << (8 * b)
		} else {
			rhi[i] ^= uint64(i)
		}
	}
	mu, mv := rd.pow[u], rd.pow[v]
	gu, gv := rd.mag[u], rd.mag[v]
	short := b <= 4 // d = 8: y is one uint64
	for k := 0; k < ff1Rounds; k++ {
		i, x := k, xb
		if !enc {
			i, x = ff1Rounds-1-k, xa
		}
		if b == 8 || k == 0 {
			// The high half only changes when it holds the round number.
			binary.BigEndian.PutUint64(s.in[:8], rhi[i])
		}
		binary.BigEndian.PutUint64(s.in[8:], rlo[i]^x)
		c.block.Encrypt(s.out[:], s.in[:])
		mod, mag := mu, gu
		if i&1 != 0 {
			mod, mag = mv, gv
		}
		var y uint64
		if short {
			y = barrett(binary.BigEndian.Uint64(s.out[:8]), mod, mag)
		} else {
			y = rem96(binary.BigEndian.Uint32(s.out[:4]), binary.BigEndian.Uint64(s.out[4:12]), mod)
		}
		if enc {
			xa, xb = xb, addMod(xa, y, mod)
		} else {
			xa, xb = subMod(xb, y, mod), xa
		}
	}
	return xa, xb
}

// roundsBig is the general FF1 path, with math/big numbers.
func (c *FF1) roundsBig(s *ff1Scratch, tweak []byte, src, dst []uint16, enc bool) {
	rd := &c.rd
	n := len(src)
	u, v := n/2, n-n/2
	A, B, C := &s.a, &s.b, &s.c
	rd.numBig(A, src[:u], false)
	rd.numBig(B, src[u:], false)
	rd.powBig(&s.mu, u)
	rd.powBig(&s.mv, v)
	b := (s.y.Sub(&s.mv, big.NewInt(1)).BitLen() + 7) / 8
	d := 4*((b+3)/4) + 4
	hi, lo, cut, qlen := c.prefix(s, tweak, n, b)

	tail := grow(s.q, qlen-cut)
	s.q = tail
	clear(tail)
	if cut < len(tweak) {
		copy(tail, tweak[cut:])
	}
	sb := grow(s.s, (d+15)&^15)
	s.s = sb
	for k := 0; k < ff1Rounds; k++ {
		i, x := k, B
		if !enc {
			i, x = ff1Rounds-1-k, A
		}
		tail[len(tail)-1-b] = byte(i)
		x.FillBytes(tail[len(tail)-b:])
		// R = PRF(P || Q), continuing from the cached prefix state.
		r := sb[:16]
		binary.BigEndian.PutUint64(r, hi)
		binary.BigEndian.PutUint64(r[8:], lo)
		for off := 0; off < len(tail); off += 16 {
			subtle.XORBytes(r, r, tail[off:off+16])
			c.block.Encrypt(r, r)
		}
		// S = R || CIPH(R ⊕ [1]16) || CIPH(R ⊕ [2]16) || ...
		for j := 1; 16*j < d; j++ {
			blk := sb[16*j : 16*j+16]
			copy(blk, r)
			binary.BigEndian.PutUint64(blk[8:], binary.BigEndian.Uint64(blk[8:])^uint64(j))
			c.block.Encrypt(blk, blk)
		}
		s.y.SetBytes(sb[:d])
		mod := &s.mu
		if i&1 != 0 {
			mod = &s.mv
		}
		if enc {
			C.Add(A, &s.y).Mod(C, mod)
			A, B, C = B, C, A
		} else {
			C.Sub(B, &s.y).Mod(C, mod)
			A, B, C = C, A, B
		}
	}
	rd.strBig(dst, u-1, -1, u, A)
	rd.strBig(dst, n-1, -1, v, B)
}
