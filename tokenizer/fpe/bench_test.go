package fpe

import (
	"crypto/aes"
	"encoding/hex"
	"testing"
)

var (
	benchKey, _    = hex.DecodeString("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
	benchTweak8, _ = hex.DecodeString("D8E7920AFA330A73")
	benchTweak7    = benchTweak8[:7]
	sinkString     string
)

const (
	benchDigits = "4111111111111111"
	benchBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	benchText   = "Zx9fLqP2mT7vKc4RwB8nHd3GyJ6sEa1UoQ5iXrV0" // 40 base-62 characters
)

// BenchmarkAES256Block is the yardstick: one AES-256 block through
// cipher.Block, chained as the Feistel rounds are.
func BenchmarkAES256Block(b *testing.B) {
	block, err := aes.NewCipher(benchKey)
	if err != nil {
		b.Fatal(err)
	}
	var buf [16]byte
	b.SetBytes(16)
	for b.Loop() {
		block.Encrypt(buf[:], buf[:])
	}
}

func benchString(b *testing.B, f func([]byte, string) (string, error), tweak []byte, in string) {
	b.ReportAllocs()
	for b.Loop() {
		out, err := f(tweak, in)
		if err != nil {
			b.Fatal(err)
		}
		sinkString = out
	}
}

func newBenchFF1(b *testing.B, alphabet string) *FF1 {
	c, err := NewFF1(benchKey, alphabet)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func newBenchFF31(b *testing.B, alphabet string) *FF31 {
	c, err := NewFF31(benchKey, alphabet)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkFF1Encrypt16Digits(b *testing.B) {
	benchString(b, newBenchFF1(b, "0123456789").Encrypt, benchTweak8, benchDigits)
}

func BenchmarkFF1Decrypt16Digits(b *testing.B) {
	benchString(b, newBenchFF1(b, "0123456789").Decrypt, benchTweak8, benchDigits)
}

func BenchmarkFF31Encrypt16Digits(b *testing.B) {
	benchString(b, newBenchFF31(b, "0123456789").Encrypt, benchTweak7, benchDigits)
}

func BenchmarkFF31Decrypt16Digits(b *testing.B) {
	benchString(b, newBenchFF31(b, "0123456789").Decrypt, benchTweak7, benchDigits)
}

// Radix 62, 40 characters: both halves exceed 64 bits (math/big path).
func BenchmarkFF1Encrypt40Base62(b *testing.B) {
	benchString(b, newBenchFF1(b, benchBase62).Encrypt, benchTweak8, benchText)
}

func BenchmarkFF1Decrypt40Base62(b *testing.B) {
	benchString(b, newBenchFF1(b, benchBase62).Decrypt, benchTweak8, benchText)
}

// Radix 62, 32 characters: FF3-1's maximum for radix 62.
func BenchmarkFF31Encrypt32Base62(b *testing.B) {
	benchString(b, newBenchFF31(b, benchBase62).Encrypt, benchTweak7, benchText[:32])
}

// Radix 62, 20 characters: halves of 10 still fit in 64 bits (fast path).
func BenchmarkFF1Encrypt20Base62(b *testing.B) {
	benchString(b, newBenchFF1(b, benchBase62).Encrypt, benchTweak8, benchText[:20])
}

func BenchmarkFF1EncryptNumerals16Digits(b *testing.B) {
	c, err := NewFF1Radix(benchKey, 10)
	if err != nil {
		b.Fatal(err)
	}
	src := []uint16{4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	dst := make([]uint16, 0, len(src))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.EncryptNumerals(dst, benchTweak8, src); err != nil {
			b.Fatal(err)
		}
	}
}
