package fpe

import "encoding/binary"

// The assembly fast path (ff1_amd64.s) keeps the AES round keys in
// registers, so it needs the expanded key itself, which crypto/aes does not
// expose. This file implements the FIPS 197 key expansion.
//
// The S-box is computed (inversion in GF(2^8), then the affine map) rather
// than looked up, so expanding a secret key makes no key-dependent memory
// accesses or branches.

// aesSchedule is an expanded AES encryption key in the layout the assembly
// uses: rk[0] is round key 0 and round keys 1 to nr fill rk[15-nr:], so the
// last round key is always rk[14] and shorter keys just start later.
type aesSchedule struct {
	rk [15][16]byte
	nr int // 10, 12 or 14 rounds
}

// newAESSchedule expands a 16-, 24- or 32-byte key (FIPS 197 §5.2).
func newAESSchedule(key []byte) *aesSchedule {
	nk := len(key) / 4
	nr := nk + 6
	var w [60]uint32 // 4·(nr+1) words, at most 60 for AES-256
	for i := range nk {
		w[i] = binary.BigEndian.Uint32(key[4*i:])
	}
	rcon := byte(1)
	for i := nk; i < 4*(nr+1); i++ {
		t := w[i-1]
		switch {
		case i%nk == 0:
			t = subWord(t<<8|t>>24) ^ uint32(rcon)<<24
			rcon = xtime(rcon)
		case nk > 6 && i%nk == 4:
			t = subWord(t)
		}
		w[i] = w[i-nk] ^ t
	}
	ks := &aesSchedule{nr: nr}
	for r := 0; r <= nr; r++ {
		k := ks.roundKey(r)
		for j := range 4 {
			binary.BigEndian.PutUint32(k[4*j:], w[4*r+j])
		}
	}
	clear(w[:])
	return ks
}

// roundKey returns round key r (0 to nr) in FIPS 197 byte order.
func (ks *aesSchedule) roundKey(r int) *[16]byte {
	if r > 0 {
		r += 14 - ks.nr
	}
	return &ks.rk[r]
}

func subWord(w uint32) uint32 {
	return uint32(sbox(byte(w>>24)))<<24 | uint32(sbox(byte(w>>16)))<<16 |
		uint32(sbox(byte(w>>8)))<<8 | uint32(sbox(byte(w)))
}

// xtime multiplies by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.
func xtime(a byte) byte {
	return a<<1 ^ -(a>>7)&0x1b
}

// gfMul multiplies in GF(2^8) with masks instead of branches.
func gfMul(a, b byte) byte {
	var p byte
	for range 8 {
		p ^= -(b & 1) & a
		a = xtime(a)
		b >>= 1
	}
	return p
}

// sbox returns the AES S-box value of a (FIPS 197 §5.1.1): the
// multiplicative inverse a^254 (0 for 0), then the affine transformation.
func sbox(a byte) byte {
	a2 := gfMul(a, a)
	a3 := gfMul(a2, a)
	a6 := gfMul(a3, a3)
	a12 := gfMul(a6, a6)
	a15 := gfMul(a12, a3)
	a240 := gfMul(a15, a15)
	a240 = gfMul(a240, a240)
	a240 = gfMul(a240, a240)
	a240 = gfMul(a240, a240)
	b := gfMul(gfMul(a240, a12), a2) // a^(240+12+2)
	rotl := func(x byte, k int) byte { return x<<k | x>>(8-k) }
	return b ^ rotl(b, 1) ^ rotl(b, 2) ^ rotl(b, 3) ^ rotl(b, 4) ^ 0x63
}
