package fpe

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// This file checks the optimised code against literal transcriptions of
// SP 800-38G Rev. 1 Algorithms 7-10, on random inputs that reach every path:
// uint64 and math/big halves, multi-block tweaks, and d > 16 (extra S
// blocks).

func refNum(x []uint16, radix int) *big.Int {
	z, r := new(big.Int), big.NewInt(int64(radix))
	for _, d := range x {
		z.Mul(z, r).Add(z, big.NewInt(int64(d)))
	}
	return z
}

func refStr(z *big.Int, radix, m int) []uint16 {
	out := make([]uint16, m)
	z, r, d := new(big.Int).Set(z), big.NewInt(int64(radix)), new(big.Int)
	for i := m - 1; i >= 0; i-- {
		z.QuoRem(z, r, d)
		out[i] = uint16(d.Uint64())
	}
	return out
}

func refPow(radix, m int) *big.Int {
	return new(big.Int).Exp(big.NewInt(int64(radix)), big.NewInt(int64(m)), nil)
}

// refFF1 is Algorithms 7 (enc) and 8 (!enc).
func refFF1(block cipher.Block, radix int, tweak []byte, x []uint16, enc bool) []uint16 {
	n, t := len(x), len(tweak)
	u := n / 2
	v := n - u
	A, B := slices.Clone(x[:u]), slices.Clone(x[u:])
	b := int(math.Ceil(math.Ceil(float64(v)*math.Log2(float64(radix))) / 8))
	d := 4*((b+3)/4) + 4
	P := []byte{1, 2, 1, byte(radix >> 16), byte(radix >> 8), byte(radix), 10, byte(u)}
	P = binary.BigEndian.AppendUint32(P, uint32(n))
	P = binary.BigEndian.AppendUint32(P, uint32(t))
	for k := 0; k < 10; k++ {
		i := k
		if !enc {
			i = 9 - k
		}
		Q := slices.Clone(tweak)
		Q = append(Q, make([]byte, ((-t-b-1)%16+16)%16)...)
		Q = append(Q, byte(i))
		src := B
		if !enc {
			src = A
		}
		Q = append(Q, refNum(src, radix).FillBytes(make([]byte, b))...)
		// R = PRF(P || Q): CBC-MAC with a zero IV.
		R := make([]byte, 16)
		PQ := append(slices.Clone(P), Q...)
		for j := 0; j < len(PQ); j += 16 {
			for k := range 16 {
				R[k] ^= PQ[j+k]
			}
			block.Encrypt(R, R)
		}
		S := slices.Clone(R)
		for j := 1; len(S) < d; j++ {
			blk := slices.Clone(R)
			jb := new(big.Int).SetInt64(int64(j)).FillBytes(make([]byte, 16))
			for k := range 16 {
				blk[k] ^= jb[k]
			}
			block.Encrypt(blk, blk)
			S = append(S, blk...)
		}
		y := new(big.Int).SetBytes(S[:d])
		m := u
		if i%2 == 1 {
			m = v
		}
		if enc {
			c := new(big.Int).Add(refNum(A, radix), y)
			c.Mod(c, refPow(radix, m))
			A, B = B, refStr(c, radix, m)
		} else {
			c := new(big.Int).Sub(refNum(B, radix), y)
			c.Mod(c, refPow(radix, m))
			A, B = refStr(c, radix, m), A
		}
	}
	return append(A, B...)
}

func reversed[T any](s []T) []T {
	s = slices.Clone(s)
	slices.Reverse(s)
	return s
}

// refFF3 is the FF3 core (Algorithms 9 and 10) with a 64-bit tweak; block
// must be keyed with REVB(K).
func refFF3(block cipher.Block, radix int, tweak [8]byte, x []uint16, enc bool) []uint16 {
	n := len(x)
	u := (n + 1) / 2
	v := n - u
	A, B := slices.Clone(x[:u]), slices.Clone(x[u:])
	TL, TR := tweak[:4], tweak[4:]
	for k := 0; k < 8; k++ {
		i := k
		if !enc {
			i = 7 - k
		}
		m, W := u, TR
		if i%2 == 1 {
			m, W = v, TL
		}
		src := B
		if !enc {
			src = A
		}
		P := binary.BigEndian.AppendUint32(nil, binary.BigEndian.Uint32(W)^uint32(i))
		P = append(P, refNum(reversed(src), radix).FillBytes(make([]byte, 12))...)
		out := make([]byte, 16)
		block.Encrypt(out, reversed(P))
		y := new(big.Int).SetBytes(reversed(out))
		if enc {
			c := new(big.Int).Add(refNum(reversed(A), radix), y)
			c.Mod(c, refPow(radix, m))
			A, B = B, reversed(refStr(c, radix, m))
		} else {
			c := new(big.Int).Sub(refNum(reversed(B), radix), y)
			c.Mod(c, refPow(radix, m))
			A, B = reversed(refStr(c, radix, m)), A
		}
	}
	return append(A, B...)
}

func randNumerals(rng *rand.Rand, radix, n int) []uint16 {
	x := make([]uint16, n)
	for i := range x {
		x[i] = uint16(rng.IntN(radix))
	}
	return x
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// refRadices mixes small, decimal, power-of-two and maximal radices.
var refRadices = []int{2, 3, 10, 16, 26, 36, 62, 64, 255, 256, 1000, 1024, 40000, 65535, 65536}

func TestFF1MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, radix := range refRadices {
		for iter := 0; iter < 12; iter++ {
			key := randBytes(rng, []int{16, 24, 32}[iter%3])
			c, err := NewFF1Radix(key, radix)
			if err != nil {
				t.Fatal(err)
			}
			n := c.MinLen() + rng.IntN(12)
			if iter%4 == 3 {
				n = c.MinLen() + rng.IntN(120) // long: math/big and d > 16
			}
			tweak := randBytes(rng, []int{0, 1, 7, 8, 11, 16, 17, 40}[rng.IntN(8)])
			x := randNumerals(rng, radix, n)
			want := refFF1(c.block, radix, tweak, x, true)
			got, err := c.EncryptNumerals(nil, tweak, x)
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("radix %d n %d t %d: EncryptNumerals(%v) = %v, %v, want %v", radix, n, len(tweak), x, got, err, want)
			}
			if back := refFF1(c.block, radix, tweak, want, false); !slices.Equal(back, x) {
				t.Fatalf("radix %d n %d: reference decrypt does not invert reference encrypt", radix, n)
			}
			got, err = c.DecryptNumerals(nil, tweak, want)
			if err != nil || !slices.Equal(got, x) {
				t.Fatalf("radix %d n %d t %d: DecryptNumerals(%v) = %v, %v, want %v", radix, n, len(tweak), want, got, err, x)
			}
		}
	}
}

// TestFF1ShapesShareCipher runs many input shapes (n, t) in random order
// through one cipher, against the reference, so that CIPH(P) cache entries
// are replaced and shapes share cache slots.
func TestFF1ShapesShareCipher(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, radix := range []int{10, 36} {
		c, err := NewFF1Radix(randBytes(rng, 32), radix)
		if err != nil {
			t.Fatal(err)
		}
		for iter := 0; iter < 1000; iter++ {
			n := c.MinLen() + rng.IntN(40)
			tweak := randBytes(rng, rng.IntN(20))
			x := randNumerals(rng, radix, n)
			want := refFF1(c.block, radix, tweak, x, true)
			if got, err := c.EncryptNumerals(nil, tweak, x); err != nil || !slices.Equal(got, want) {
				t.Fatalf("radix %d n %d t %d: EncryptNumerals(%v) = %v, %v, want %v", radix, n, len(tweak), x, got, err, want)
			}
			if got, err := c.DecryptNumerals(nil, tweak, want); err != nil || !slices.Equal(got, x) {
				t.Fatalf("radix %d n %d t %d: DecryptNumerals(%v) = %v, %v, want %v", radix, n, len(tweak), want, got, err, x)
			}
		}
	}
}

func TestFF3MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, radix := range refRadices {
		for iter := 0; iter < 12; iter++ {
			key := randBytes(rng, []int{16, 24, 32}[iter%3])
			c, err := NewFF31Radix(key, radix)
			if err != nil {
				t.Fatal(err)
			}
			n := c.MinLen() + rng.IntN(c.MaxLen()-c.MinLen()+1)
			tweak := [8]byte(randBytes(rng, 8))
			x := randNumerals(rng, radix, n)
			rev := aesKey(t, reversed(key))
			want := refFF3(rev, radix, tweak, x, true)
			got, err := c.cryptNumerals("FF3", nil, tweak, x, true)
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("radix %d n %d: Encrypt(%v) = %v, %v, want %v", radix, n, x, got, err, want)
			}
			got, err = c.cryptNumerals("FF3", nil, tweak, want, false)
			if err != nil || !slices.Equal(got, x) {
				t.Fatalf("radix %d n %d: Decrypt(%v) = %v, %v, want %v", radix, n, want, got, err, x)
			}
		}
	}
}

func aesKey(t *testing.T, key []byte) cipher.Block {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFF1BigPathMatchesFast runs inputs that qualify for the uint64 path
// through the math/big path too.
func TestFF1BigPathMatchesFast(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, radix := range refRadices {
		c, err := NewFF1Radix(randBytes(rng, 32), radix)
		if err != nil {
			t.Fatal(err)
		}
		for n := c.MinLen(); c.rd.fast(n - n/2); n++ {
			tweak := randBytes(rng, rng.IntN(20))
			x := randNumerals(rng, radix, n)
			s := new(ff1Scratch)
			for _, enc := range []bool{true, false} {
				fast, slow := make([]uint16, n), make([]uint16, n)
				c.crypt(s, tweak, x, fast, enc)
				c.roundsBig(s, tweak, x, slow, enc)
				if !slices.Equal(fast, slow) {
					t.Fatalf("radix %d n %d enc %v: fast path %v, big path %v", radix, n, enc, fast, slow)
				}
			}
		}
	}
}

func TestFF3BigPathMatchesFast(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, radix := range refRadices {
		c, err := NewFF31Radix(randBytes(rng, 16), radix)
		if err != nil {
			t.Fatal(err)
		}
		for n := c.MinLen(); n <= c.MaxLen() && c.rd.fast(n-n/2); n++ {
			tweak := [8]byte(randBytes(rng, 8))
			x := randNumerals(rng, radix, n)
			s := new(ff3Scratch)
			for _, enc := range []bool{true, false} {
				fast, slow := make([]uint16, n), make([]uint16, n)
				c.crypt(s, tweak, x, fast, enc)
				c.roundsBig(s, tweak, x, slow, enc)
				if !slices.Equal(fast, slow) {
					t.Fatalf("radix %d n %d enc %v: fast path %v, big path %v", radix, n, enc, fast, slow)
				}
			}
		}
	}
}

// TestStringPathsMatchNumerals checks the string fast paths (decimal SWAR,
// ASCII table, non-ASCII runes) against the numeral API.
func TestStringPathsMatchNumerals(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	alphabets := []string{
		decimalAlphabet,
		"0123456789abcdef",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
		"αβγδεζηθικλμνξοπρστυφχψω",
		"01",
		"😀😁😂🤣😃",
	}
	for _, alpha := range alphabets {
		runes := []rune(alpha)
		key := randBytes(rng, 16)
		f1, err1 := NewFF1(key, alpha)
		f3, err3 := NewFF31(key, alpha)
		n1, _ := NewFF1Radix(key, len(runes))
		n3, _ := NewFF31Radix(key, len(runes))
		if err1 != nil || err3 != nil {
			t.Fatal(err1, err3)
		}
		for n := f1.MinLen(); n <= min(f1.MinLen()+45, f3.MaxLen()); n++ {
			x := randNumerals(rng, len(runes), n)
			var str []rune
			for _, d := range x {
				str = append(str, runes[d])
			}
			tw := randBytes(rng, 7)
			want1, _ := n1.EncryptNumerals(nil, tw, x)
			want3, _ := n3.EncryptNumerals(nil, tw, x)
			for _, tc := range []struct {
				name string
				enc  func([]byte, string) (string, error)
				dec  func([]byte, string) (string, error)
				want []uint16
			}{
				{"FF1", f1.Encrypt, f1.Decrypt, want1},
				{"FF31", f3.Encrypt, f3.Decrypt, want3},
			} {
				var wantStr []rune
				for _, d := range tc.want {
					wantStr = append(wantStr, runes[d])
				}
				got, err := tc.enc(tw, string(str))
				if err != nil || got != string(wantStr) {
					t.Fatalf("%s %q: Encrypt(%q) = %q, %v, want %q", tc.name, alpha, string(str), got, err, string(wantStr))
				}
				back, err := tc.dec(tw, got)
				if err != nil || back != string(str) {
					t.Fatalf("%s %q: Decrypt(%q) = %q, %v, want %q", tc.name, alpha, got, back, err, string(str))
				}
			}
		}
	}
}
