//go:build amd64 && !purego

package fpe

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestFF1AsmMatchesGo compares the assembly rounds with the pure-Go rounds
// on 100,000 random inputs that qualify for them: every radix from 2 to 36
// and a few larger ones, all key sizes, both directions, and every length
// and tweak length with b <= 4 and t+b+1 <= 16; through the string methods
// too where the radix has an alphabet.
func TestFF1AsmMatchesGo(t *testing.T) {
	if !useAsm {
		t.Fatal("the CPU lacks AES-NI or SSE4.1: the assembly rounds cannot be tested here")
	}
	iters := 100_000
	if testing.Short() || raceEnabled {
		iters = 10_000
	}
	rng := rand.New(rand.NewPCG(13, 14))
	radices := []int{40, 62, 64, 94, 100, 255, 256, 1000, 1024, 65535, 65536}
	for r := 2; r <= 36; r++ {
		radices = append(radices, r)
	}
	type pair struct{ asm, gocode *FF1 }
	ciphers := make(map[[2]int]pair) // (radix, key size)
	for iter := 0; iter < iters; iter++ {
		radix := radices[iter%len(radices)]
		keyLen := []int{16, 24, 32}[rng.IntN(3)]
		p, ok := ciphers[[2]int{radix, keyLen}]
		if !ok || rng.IntN(50) == 0 { // a fresh key now and then
			key := randBytes(rng, keyLen)
			newCipher := func() *FF1 {
				// Radices up to 36 get an alphabet, so the string methods
				// (decimal and ASCII fast paths) are compared too.
				if radix <= len(defaultAlphabet) {
					c, err := NewFF1(key, defaultAlphabet[:radix])
					if err != nil {
						t.Fatal(err)
					}
					return c
				}
				c, err := NewFF1Radix(key, radix)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			p = pair{newCipher(), newCipher()}
			p.gocode.ks = nil
			ciphers[[2]int{radix, keyLen}] = p
		}
		// The longest n whose v = n - n/2 keeps b <= 4.
		maxN := p.asm.MinLen()
		for p.asm.rd.fast(maxN/2+1) && p.asm.rd.blen[maxN/2+1] <= 4 {
			maxN++
		}
		n := p.asm.MinLen() + rng.IntN(maxN-p.asm.MinLen()+1)
		b := p.asm.rd.blen[n-n/2]
		tweak := randBytes(rng, rng.IntN(16-b))
		if !p.asm.asmOK(len(tweak), b) {
			t.Fatalf("radix %d n %d t %d: not on the assembly path", radix, n, len(tweak))
		}
		x := randNumerals(rng, radix, n)
		for _, enc := range []bool{true, false} {
			got, want := make([]uint16, n), make([]uint16, n)
			p.asm.crypt(new(ff1Scratch), tweak, x, got, enc)
			p.gocode.crypt(new(ff1Scratch), tweak, x, want, enc)
			if !slices.Equal(got, want) {
				t.Fatalf("radix %d key %d bytes n %d t %d enc %v: x %v: assembly %v, Go %v",
					radix, keyLen, n, len(tweak), enc, x, got, want)
			}
			if p.asm.alpha == nil {
				continue
			}
			str := p.asm.alpha.encode(nil, x)
			gotS, err1 := p.asm.cryptString("", tweak, string(str), enc)
			wantS, err2 := p.gocode.cryptString("", tweak, string(str), enc)
			if err1 != nil || err2 != nil || gotS != wantS {
				t.Fatalf("radix %d key %d bytes t %d enc %v: %q: assembly %q, %v, Go %q, %v",
					radix, keyLen, len(tweak), enc, str, gotS, err1, wantS, err2)
			}
		}
	}
}

// TestFF1AsmCoversDecimal16 checks that the benchmarked case, 16 digits
// with an 8-byte tweak, takes the assembly path where there is one.
func TestFF1AsmCoversDecimal16(t *testing.T) {
	c := mustFF1(t, testKey, decimalAlphabet)
	if got := c.asmOK(8, c.rd.blen[8]); got != useAsm {
		t.Errorf("asmOK(8, %d) = %v, want %v", c.rd.blen[8], got, useAsm)
	}
}
