package fpe

import "encoding/binary"

// asmOK reports whether rounds64Asm handles a t-byte tweak and b-byte
// NUM(B): the assembly is available, y is one uint64 (b <= 4, so d = 8)
// and Q = T || 0^pad || [i]1 || [NUM(B)]b is a single block (t+b+1 <= 16),
// so each Feistel round is one AES encryption of CIPH(P) ⊕ Q.
func (c *FF1) asmOK(t, b int) bool {
	return c.ks != nil && b <= 4 && t+b+1 <= 16
}

// asmSplit is after how many pairs of rounds rounds64Asm stops the
// assembly to allocate the result. The Feistel chain's instructions fill
// the CPU's scheduler, so instructions after the rounds wait for them to
// drain: an allocation there (or before the rounds, where it delays their
// start) adds its full latency to the call. Between two calls of the
// assembly it enters while the rounds of the first still run and
// finishes beside them; three of five pairs leave four rounds (about 80
// ns) for it.
const asmSplit = 3

// rounds64Asm is rounds64 for the cases asmOK accepts. With alloc > 0 it
// also returns a new buffer of alloc bytes, allocated beside the rounds.
func (c *FF1) rounds64Asm(tweak []byte, n, b int, xa, xb uint64, enc bool, alloc int) (uint64, uint64, []byte) {
	rd := &c.rd
	u, v := uint(n)/2, uint(n)-uint(n)/2
	// The assembly takes AES round 1's input, CIPH(P) ⊕ Q ⊕ round key 0,
	// as the little-endian words of its halves: hi, the same in every
	// round, and lo[k], to which it adds NUM(B) itself. Q starts with the
	// tweak and has the round number i at byte 15-b, bits 56-8b of lo.
	key0 := &c.cipherP(n, len(tweak)).key0
	t0, t1 := tweakWords(tweak)
	hi, lo := key0[0]^t0, key0[1]^t1
	step := uint64(1) << (56 - 8*uint(b))
	// Encryption runs i = 0, ..., 9 with p = A, q = B; decryption runs
	// i = 9, ..., 0 and is the same Feistel network with the halves
	// swapped: p = B, q = A.
	p, q := xa, xb
	mP, gP, mQ, gQ := rd.pow[u], rd.mag[u], rd.pow[v], rd.mag[v]
	i, di := uint64(0), step
	if !enc {
		p, q = xb, xa
		mP, gP, mQ, gQ = mQ, gQ, mP, gP
		i, di = (ff1Rounds-1)*step, -step
	}
	var los [ff1Rounds]uint64
	for k := range los {
		los[k] = lo ^ i
		i += di
	}
	ks := c.ks
	var out []byte
	if alloc > 0 {
		p, q = ff1Rounds64Asm(&ks.rk, ks.nr, &los[0], asmSplit, hi, mP, gP, mQ, gQ, p, q, enc)
		out = make([]byte, alloc)
		p, q = ff1Rounds64Asm(&ks.rk, ks.nr, &los[2*asmSplit], ff1Rounds/2-asmSplit, hi, mP, gP, mQ, gQ, p, q, enc)
	} else {
		p, q = ff1Rounds64Asm(&ks.rk, ks.nr, &los[0], ff1Rounds/2, hi, mP, gP, mQ, gQ, p, q, enc)
	}
	if !enc {
		p, q = q, p
	}
	return p, q, out
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
