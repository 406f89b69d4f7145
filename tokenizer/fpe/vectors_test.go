package fpe

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// vector is one entry of testdata/fpe_vectors.json.
type vector struct {
	Name       string  `json:"name"`
	Radix      int     `json:"radix"`
	Key        string  `json:"key"`
	Tweak      string  `json:"tweak"`
	Alphabet   string  `json:"alphabet"`
	Plaintext  *string `json:"plaintext"`
	Ciphertext *string `json:"ciphertext"`
	// Numeral vectors: integers, or one numeral per byte in hex.
	PlaintextNumerals     []int  `json:"plaintext_numerals"`
	CiphertextNumerals    []int  `json:"ciphertext_numerals"`
	PlaintextNumeralsHex  string `json:"plaintext_numerals_hex"`
	CiphertextNumeralsHex string `json:"ciphertext_numerals_hex"`
}

type vectorFile struct {
	FF1      []vector `json:"ff1"`
	FF1Extra []vector `json:"ff1_extra"`
	FF3      []vector `json:"ff3"`
	FF31     []vector `json:"ff3_1"`
	Derived  struct {
		FF1  []vector `json:"ff1"`
		FF3  []vector `json:"ff3"`
		FF31 []vector `json:"ff3_1"`
	} `json:"derived"`
}

// defaultAlphabet is the NIST sample convention for radix <= 36 vectors
// that name no alphabet.
const defaultAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

func loadVectors(t *testing.T) vectorFile {
	t.Helper()
	data, err := os.ReadFile("testdata/fpe_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.FF1) == 0 || len(f.FF1Extra) == 0 || len(f.FF3) == 0 || len(f.FF31) == 0 ||
		len(f.Derived.FF1) == 0 || len(f.Derived.FF3) == 0 || len(f.Derived.FF31) == 0 {
		t.Fatal("a vector set is empty; has the file format changed?")
	}
	return f
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (v vector) alphabet() string {
	if v.Alphabet != "" {
		return v.Alphabet
	}
	if v.Radix <= len(defaultAlphabet) {
		return defaultAlphabet[:v.Radix]
	}
	return ""
}

// numerals returns the vector's plaintext and ciphertext as numerals; for
// string vectors it maps characters through the alphabet.
func (v vector) numerals(t *testing.T) (pt, ct []uint16) {
	t.Helper()
	conv := func(s *string, ints []int, hx string) []uint16 {
		switch {
		case s != nil:
			var out []uint16
			for _, r := range *s {
				i := slices.Index([]rune(v.alphabet()), r)
				if i < 0 {
					t.Fatalf("%s: %q not in alphabet", v.Name, r)
				}
				out = append(out, uint16(i))
			}
			return out
		case ints != nil:
			var out []uint16
			for _, d := range ints {
				out = append(out, uint16(d))
			}
			return out
		default:
			var out []uint16
			for _, b := range mustHex(t, hx) {
				out = append(out, uint16(b))
			}
			return out
		}
	}
	return conv(v.Plaintext, v.PlaintextNumerals, v.PlaintextNumeralsHex),
		conv(v.Ciphertext, v.CiphertextNumerals, v.CiphertextNumeralsHex)
}

func TestFF1Vectors(t *testing.T) {
	f := loadVectors(t)
	tests := slices.Concat(f.FF1, f.FF1Extra, f.Derived.FF1)
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			key, tweak := mustHex(t, tt.Key), mustHex(t, tt.Tweak)
			if tt.Plaintext != nil {
				c, err := NewFF1(key, tt.alphabet())
				if err != nil {
					t.Fatal(err)
				}
				if got, err := c.Encrypt(tweak, *tt.Plaintext); err != nil || got != *tt.Ciphertext {
					t.Errorf("Encrypt(%q) = %q, %v, want %q", *tt.Plaintext, got, err, *tt.Ciphertext)
				}
				if got, err := c.Decrypt(tweak, *tt.Ciphertext); err != nil || got != *tt.Plaintext {
					t.Errorf("Decrypt(%q) = %q, %v, want %q", *tt.Ciphertext, got, err, *tt.Plaintext)
				}
			}
			// Every vector also runs through the numeral API.
			pt, ct := tt.numerals(t)
			c, err := NewFF1Radix(key, tt.Radix)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := c.EncryptNumerals(nil, tweak, pt); err != nil || !slices.Equal(got, ct) {
				t.Errorf("EncryptNumerals(%v) = %v, %v, want %v", pt, got, err, ct)
			}
			if got, err := c.DecryptNumerals(nil, tweak, ct); err != nil || !slices.Equal(got, pt) {
				t.Errorf("DecryptNumerals(%v) = %v, %v, want %v", ct, got, err, pt)
			}
		})
	}
}

// TestFF3LegacyVectors runs the 64-bit-tweak FF3 vectors through the FF3
// core that FF3-1 uses after expanding its tweak.
func TestFF3LegacyVectors(t *testing.T) {
	f := loadVectors(t)
	tests := slices.Concat(f.FF3, f.Derived.FF3)
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			key, tw := mustHex(t, tt.Key), mustHex(t, tt.Tweak)
			if len(tw) != 8 {
				t.Fatalf("legacy tweak has %d bytes", len(tw))
			}
			tweak := [8]byte(tw)
			c, err := NewFF31(key, tt.alphabet())
			if err != nil {
				t.Fatal(err)
			}
			if got, err := c.cryptString("FF3.Encrypt", tweak, *tt.Plaintext, true); err != nil || got != *tt.Ciphertext {
				t.Errorf("Encrypt(%q) = %q, %v, want %q", *tt.Plaintext, got, err, *tt.Ciphertext)
			}
			if got, err := c.cryptString("FF3.Decrypt", tweak, *tt.Ciphertext, false); err != nil || got != *tt.Plaintext {
				t.Errorf("Decrypt(%q) = %q, %v, want %q", *tt.Ciphertext, got, err, *tt.Plaintext)
			}
			pt, ct := tt.numerals(t)
			if got, err := c.cryptNumerals("FF3.EncryptNumerals", nil, tweak, pt, true); err != nil || !slices.Equal(got, ct) {
				t.Errorf("EncryptNumerals(%v) = %v, %v, want %v", pt, got, err, ct)
			}
			if got, err := c.cryptNumerals("FF3.DecryptNumerals", nil, tweak, ct, false); err != nil || !slices.Equal(got, pt) {
				t.Errorf("DecryptNumerals(%v) = %v, %v, want %v", ct, got, err, pt)
			}
		})
	}
}

func TestFF31Vectors(t *testing.T) {
	f := loadVectors(t)
	tests := slices.Concat(f.FF31, f.Derived.FF31)
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			key, tweak := mustHex(t, tt.Key), mustHex(t, tt.Tweak)
			if tt.Plaintext != nil {
				c, err := NewFF31(key, tt.alphabet())
				if err != nil {
					t.Fatal(err)
				}
				if got, err := c.Encrypt(tweak, *tt.Plaintext); err != nil || got != *tt.Ciphertext {
					t.Errorf("Encrypt(%q) = %q, %v, want %q", *tt.Plaintext, got, err, *tt.Ciphertext)
				}
				if got, err := c.Decrypt(tweak, *tt.Ciphertext); err != nil || got != *tt.Plaintext {
					t.Errorf("Decrypt(%q) = %q, %v, want %q", *tt.Ciphertext, got, err, *tt.Plaintext)
				}
			}
			pt, ct := tt.numerals(t)
			c, err := NewFF31Radix(key, tt.Radix)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := c.EncryptNumerals(nil, tweak, pt); err != nil || !slices.Equal(got, ct) {
				t.Errorf("EncryptNumerals(%v) = %v, %v, want %v", pt, got, err, ct)
			}
			if got, err := c.DecryptNumerals(nil, tweak, ct); err != nil || !slices.Equal(got, pt) {
				t.Errorf("DecryptNumerals(%v) = %v, %v, want %v", ct, got, err, pt)
			}
		})
	}
}
