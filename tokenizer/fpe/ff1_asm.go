package fpe

import "encoding/binary"

// asmOK reports whether rounds64Asm handles a t-byte tweak and b-byte
// NUM(B): the assembly is available, y is one uint64 (b <= 4, so d = 8)
// and Q = T || 0^pad || [i]1 || [NUM(B)]b is a single block (t+b+1 <= 16),
// so each Feistel round is one AES encryption of CIPH(P) ⊕ Q.
func (c *FF1) asmOK(t, b int) bool {
	return c.ks != nil && b <= 4 && t+b+1 <= 16
}

// rounds64Asm is rounds64 for the cases asmOK accepts.
func (c *FF1) rounds64Asm(tweak []byte, n, b int, xa, xb uint64, enc bool) (uint64, uint64) {
	rd := &c.rd
	u, v := uint(n)/2, uint(n)-uint(n)/2
	mA, gA, mB, gB := rd.pow[u], rd.mag[u], rd.pow[v], rd.mag[v]
	// The assembly takes AES round 1's input, CIPH(P) ⊕ Q ⊕ round key 0,
	// as the little-endian words of its halves: hi, the same in every
	// round, and lo[k], to which it adds NUM(B) itself. Q starts with the
	// tweak and has the round number i at byte 15-b, bits 56-8b of lo.
	key0 := &c.cipherP(n, len(tweak)).key0
	t0, t1 := tweakWords(tweak)
	hi, lo := key0[0]^t0, key0[1]^t1
	step := uint64(1) << (56 - 8*uint(b))
	var los [ff1Rounds]uint64
	if enc {
		i := uint64(0)
		for k := range los {
			los[k] = lo ^ i
			i += step
		}
		return ff1Rounds64Asm(&c.ks.rk, c.ks.nr, &los, hi, mA, gA, mB, gB, xa, xb, true)
	}
	// Decryption runs i = 9, ..., 0 and is the same Feistel network with
	// the halves swapped: p = B, q = A.
	i := (ff1Rounds - 1) * step
	for k := range los {
		los[k] = lo ^ i
		i -= step
	}
	xb, xa = ff1Rounds64Asm(&c.ks.rk, c.ks.nr, &los, hi, mB, gB, mA, gA, xb, xa, false)
	return xa, xb
}

// tweakWords returns the first 16 bytes of tweak || 0^16 as little-endian
// words, for tweaks shorter than 16 bytes.
func tweakWords(tweak []byte) (w0, w1 uint64) {
	t := len(tweak)
	if t < 8 {
		for i := t - 1; i >= 0; i-- {
			w0 = w0<<8 | uint64(tweak[i])
		}
		return w0, 0
	}
	// Bytes t-8 to t-1, shifted down so byte 8 is lowest; 0 for t = 8.
	return binary.LittleEndian.Uint64(tweak), binary.LittleEndian.Uint64(tweak[t-8:]) >> (8 * (16 - t))
}
