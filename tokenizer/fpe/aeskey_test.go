package fpe

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

// refAESEncrypt is a literal FIPS 197 §5.1 cipher over ks, used only to
// check the key schedule against crypto/aes.
func refAESEncrypt(ks *aesSchedule, in [16]byte) [16]byte {
	s := in // column-major state: s[4c+r] is row r, column c
	addRoundKey := func(r int) {
		for i, k := range ks.roundKey(r) {
			s[i] ^= k
		}
	}
	addRoundKey(0)
	for r := 1; r <= ks.nr; r++ {
		for i := range s {
			s[i] = sbox(s[i])
		}
		var t [16]byte
		for c := range 4 {
			for row := range 4 {
				t[4*c+row] = s[4*((c+row)%4)+row] // ShiftRows
			}
		}
		s = t
		if r < ks.nr {
			for c := range 4 { // MixColumns
				a0, a1, a2, a3 := s[4*c], s[4*c+1], s[4*c+2], s[4*c+3]
				s[4*c] = gfMul(a0, 2) ^ gfMul(a1, 3) ^ a2 ^ a3
				s[4*c+1] = a0 ^ gfMul(a1, 2) ^ gfMul(a2, 3) ^ a3
				s[4*c+2] = a0 ^ a1 ^ gfMul(a2, 2) ^ gfMul(a3, 3)
				s[4*c+3] = gfMul(a0, 3) ^ a1 ^ a2 ^ gfMul(a3, 2)
			}
		}
		addRoundKey(r)
	}
	return s
}

func TestSbox(t *testing.T) {
	// FIPS 197 Figure 7 samples, and that it is a permutation.
	for in, want := range map[byte]byte{0x00: 0x63, 0x01: 0x7c, 0x53: 0xed, 0x10: 0xca, 0xff: 0x16, 0x9a: 0xb8} {
		if got := sbox(in); got != want {
			t.Errorf("sbox(%#02x) = %#02x, want %#02x", in, got, want)
		}
	}
	var seen [256]bool
	for i := range 256 {
		seen[sbox(byte(i))] = true
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("sbox is not a permutation: %#02x missing", i)
		}
	}
}

// TestAESScheduleFIPS197 checks the last round key of the FIPS 197
// Appendix A key expansion examples.
func TestAESScheduleFIPS197(t *testing.T) {
	for _, tt := range []struct{ key, last string }{
		{"2b7e151628aed2a6abf7158809cf4f3c", "d014f9a8c9ee2589e13f0cc8b6630ca6"},
		{"8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", "e98ba06f448c773c8ecc720401002202"},
		{"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "fe4890d1e6188d0b046df344706c631e"},
	} {
		ks := newAESSchedule(mustDecode(tt.key))
		if got := hex.EncodeToString(ks.roundKey(ks.nr)[:]); got != tt.last {
			t.Errorf("key %s: last round key %s, want %s", tt.key, got, tt.last)
		}
	}
}

// TestAESScheduleMatchesCryptoAES encrypts random blocks under random keys
// of every size with the expanded schedule and with crypto/aes.
func TestAESScheduleMatchesCryptoAES(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for iter := range 300 {
		key := randBytes(rng, []int{16, 24, 32}[iter%3])
		ks := newAESSchedule(key)
		if ks.nr != len(key)/4+6 {
			t.Fatalf("%d-byte key: %d rounds", len(key), ks.nr)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		in := [16]byte(randBytes(rng, 16))
		var want [16]byte
		block.Encrypt(want[:], in[:])
		if got := refAESEncrypt(ks, in); !bytes.Equal(got[:], want[:]) {
			t.Fatalf("%d-byte key %x: schedule gives %x, crypto/aes %x", len(key), key, got, want)
		}
	}
}
