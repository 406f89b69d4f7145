package fpe

import (
	"math/big"
	"math/bits"
)

// radix holds per-radix constants for numeral-string arithmetic.
//
// Halves whose values stay at or below 2^63 use plain uint64 arithmetic (the
// fast path, covering common short inputs such as up to 36 decimal digits);
// anything larger goes through math/big.
type radix struct {
	r      uint64
	pow    []uint64 // pow[k] = r^k for every k with r^k < 2^64
	fastK  int      // largest k with r^k <= 2^63: sums of two values fit
	mag    []uint64 // mag[k] = ⌊(2^64-1)/pow[k]⌋, Barrett constants for mod pow[k]
	blen   []int    // blen[k] = byte length of pow[k]-1, FF1's b for v = k
	divM   uint64   // ⌈2^64/r⌉: Lemire's constant to divide 32-bit values by r
	k32    int      // largest k with r^k <= 2^32
	p32    uint64   // pow[k32]
	minLen int      // smallest n >= 2 with r^n >= 1,000,000
}

func newRadix(r int) radix {
	rd := radix{r: uint64(r)}
	p := uint64(1)
	for {
		rd.pow = append(rd.pow, p)
		rd.mag = append(rd.mag, ^uint64(0)/p)
		rd.blen = append(rd.blen, (bits.Len64(p-1)+7)/8)
		if p <= 1<<32 {
			rd.k32, rd.p32 = len(rd.pow)-1, p
		}
		hi, lo := bits.Mul64(p, rd.r)
		if hi != 0 {
			break
		}
		p = lo
	}
	for rd.fastK+1 < len(rd.pow) && rd.pow[rd.fastK+1] <= 1<<63 {
		rd.fastK++
	}
	rd.divM = ^uint64(0)/rd.r + 1
	rd.minLen = 2
	for rd.minLen < len(rd.pow) && rd.pow[rd.minLen] < 1000000 {
		rd.minLen++
	}
	return rd
}

// fast reports whether r^k <= 2^63, so k-numeral values and their sums fit
// in a uint64.
func (rd *radix) fast(k int) bool { return k <= rd.fastK }

// barrett returns y mod m given mag = ⌊(2^64-1)/m⌋. It replaces a hardware
// divide on the Feistel rounds' critical path. mag >= 2^64/m - 1, so the
// quotient estimate is at most one too small.
func barrett(y, m, mag uint64) uint64 {
	q, _ := bits.Mul64(y, mag)
	return condSub(y-q*m, m)
}

// rem96 returns (hi·2^64 + lo) mod m.
func rem96(hi uint32, lo, m uint64) uint64 {
	if uint64(hi) < m {
		_, r := bits.Div64(uint64(hi), lo, m) // one divide instead of Rem64's two
		return r
	}
	return bits.Rem64(uint64(hi), lo, m)
}

// The helpers below compile to conditional moves: their conditions are
// data-dependent coin flips, and mispredicted branches would cost more than
// the arithmetic.

// condSub returns r-m if r >= m, else r.
func condSub(r, m uint64) uint64 {
	if r >= m {
		r -= m
	}
	return r
}

// addMod returns (a+b) mod m for a, b < m <= 2^63 (so a+b cannot wrap).
func addMod(a, b, m uint64) uint64 {
	return condSub(a+b, m)
}

// subMod returns (a-b) mod m for a, b < m.
func subMod(a, b, m uint64) uint64 {
	d := a - b
	if a < b {
		d += m
	}
	return d
}

// digit is a numeral container: numerals, or ASCII characters.
type digit interface{ ~uint16 | ~byte }

// putDigits writes the m lowest base-r digits of x, least significant first,
// to dst[pos], dst[pos+step], ...; with a non-nil table it writes table[d]
// instead of the digit d. x must be below r^m.
func putDigits[T digit](rd *radix, dst []T, table []T, pos, step, m int, x uint64) {
	for m > rd.k32 {
		// Peel off 32-bit chunks with one hardware divide each so the
		// per-digit loop below can use multiply-only division.
		var lo uint64
		x, lo = x/rd.p32, x%rd.p32
		putDigits32(rd, dst, table, pos, step, rd.k32, lo)
		pos += step * rd.k32
		m -= rd.k32
	}
	putDigits32(rd, dst, table, pos, step, m, x)
}

func putDigits32[T digit](rd *radix, dst []T, table []T, pos, step, m int, x uint64) {
	// Lemire's fastdiv/fastmod: exact for x < 2^32 and r <= 2^32.
	for ; m > 0; m-- {
		q, lo := bits.Mul64(rd.divM, x)
		d, _ := bits.Mul64(lo, rd.r)
		if table != nil {
			dst[pos] = table[d]
		} else {
			dst[pos] = T(d)
		}
		pos += step
		x = q
	}
}

// numBig sets z to the value of src read most-significant first (le false)
// or least-significant first (le true). Numerals must be below r.
func (rd *radix) numBig(z *big.Int, src []uint16, le bool) {
	z.SetUint64(0)
	k := len(rd.pow) - 1 // numerals per uint64 chunk
	var mul, tmp big.Int
	n := len(src)
	for i := 0; i < n; i += k {
		c := min(k, n-i)
		var acc uint64
		for j := 0; j < c; j++ {
			idx := i + j
			if le {
				idx = n - 1 - idx
			}
			acc = acc*rd.r + uint64(src[idx])
		}
		mul.SetUint64(rd.pow[c])
		z.Mul(z, &mul)
		z.Add(z, tmp.SetUint64(acc))
	}
}

// strBig writes the m lowest base-r digits of x, least significant first, to
// dst[pos], dst[pos+step], ...; x must be below r^m. x is left unchanged.
func (rd *radix) strBig(dst []uint16, pos, step, m int, x *big.Int) {
	k := len(rd.pow) - 1
	var q, r, div big.Int
	q.Set(x)
	div.SetUint64(rd.pow[k])
	for m > k {
		q.QuoRem(&q, &div, &r)
		putDigits(rd, dst, nil, pos, step, k, r.Uint64())
		pos += step * k
		m -= k
	}
	putDigits(rd, dst, nil, pos, step, m, q.Uint64())
}

// powBig sets z to r^k.
func (rd *radix) powBig(z *big.Int, k int) *big.Int {
	return z.Exp(new(big.Int).SetUint64(rd.r), big.NewInt(int64(k)), nil)
}
