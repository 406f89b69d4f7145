package tokenizer_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/tokenizer"
)

var (
	keyA = bytes.Repeat([]byte{1}, 32)
	keyB = bytes.Repeat([]byte{2}, 32)
)

func TestCodecRoundTrip(t *testing.T) {
	c := tokenizer.NewCodec("email", keyA)
	id := tokenizer.NewID()
	tok := c.Encode(id)
	if !strings.HasPrefix(tok, tokenizer.TokenPrefix) {
		t.Errorf("Encode() = %q, want prefix %q", tok, tokenizer.TokenPrefix)
	}
	got, err := c.Decode(tok)
	if err != nil || !bytes.Equal(got, id) {
		t.Errorf("Decode(Encode(id)) = %x, %v, want %x", got, err, id)
	}
}

// AppendEncode appends the spelling Encode returns.
func TestCodecAppendEncode(t *testing.T) {
	c := tokenizer.NewCodec("email", keyA)
	for range 100 {
		id := tokenizer.NewID()
		if got, want := string(c.AppendEncode([]byte("x"), id)), "x"+c.Encode(id); got != want {
			t.Fatalf("AppendEncode(x, id) = %q, want %q", got, want)
		}
	}
}

func TestCodecRejects(t *testing.T) {
	c := tokenizer.NewCodec("email", keyA)
	tok := c.Encode(tokenizer.NewID())
	flipped := []byte(tok)
	last := len(flipped) - 3
	flipped[last] = map[bool]byte{true: 'b', false: 'a'}[flipped[last] == 'a']
	tests := []struct {
		name  string
		codec *tokenizer.Codec
		token string
	}{
		{"empty", c, ""},
		{"no prefix", c, strings.TrimPrefix(tok, tokenizer.TokenPrefix)},
		{"truncated", c, tok[:len(tok)-1]},
		{"extended", c, tok + "a"},
		{"bit flipped", c, string(flipped)},
		{"not base32", c, tokenizer.TokenPrefix + strings.Repeat("!", len(tok)-len(tokenizer.TokenPrefix))},
		{"other class", tokenizer.NewCodec("phone", keyA), tok},
		{"other key", tokenizer.NewCodec("email", keyB), tok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.codec.Decode(tt.token); !errors.Is(err, tokenizer.ErrMalformedToken) {
				t.Errorf("Decode(%s) error = %v, want ErrMalformedToken", tt.name, err)
			}
		})
	}
}

// TestCodecEveryBitFlip flips each bit of a token's decoded body and checks
// that no variant verifies.
func TestCodecEveryBitFlip(t *testing.T) {
	c := tokenizer.NewCodec("email", keyA)
	id := tokenizer.NewID()
	tok := c.Encode(id)
	alphabet := "abcdefghijklmnopqrstuvwxyz234567"
	body := tok[len(tokenizer.TokenPrefix):]
	for i := range body {
		for _, r := range alphabet {
			if byte(r) == body[i] {
				continue
			}
			mutated := tokenizer.TokenPrefix + body[:i] + string(r) + body[i+1:]
			if got, err := c.Decode(mutated); err == nil && !bytes.Equal(got, id) {
				t.Fatalf("Decode(token with char %d changed) verified to another id", i)
			}
		}
	}
}

func TestSealerRoundTripAndBinding(t *testing.T) {
	s, err := tokenizer.NewSealer("email", keyA)
	if err != nil {
		t.Fatal(err)
	}
	id := tokenizer.NewID()
	value := []byte("alice@example.com")
	sealed := s.Seal(id, value)
	if bytes.Contains(sealed, value) {
		t.Fatal("Seal() output contains the plaintext")
	}
	got, err := s.Open(id, sealed)
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Open(Seal(v)) = %q, %v, want %q", got, err, value)
	}
	other, _ := tokenizer.NewSealer("phone", keyA)
	wrongKey, _ := tokenizer.NewSealer("email", keyB)
	tests := []struct {
		name   string
		sealer *tokenizer.Sealer
		id     []byte
		sealed []byte
	}{
		{"other id", s, tokenizer.NewID(), sealed},
		{"other class", other, id, sealed},
		{"other key", wrongKey, id, sealed},
		{"short", s, id, sealed[:10]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.sealer.Open(tt.id, tt.sealed); !errors.Is(err, tokenizer.ErrDecrypt) {
				t.Errorf("Open(%s) error = %v, want ErrDecrypt", tt.name, err)
			}
		})
	}
	for i := range len(sealed) * 8 {
		tampered := bytes.Clone(sealed)
		tampered[i/8] ^= 1 << (i % 8)
		if _, err := s.Open(id, tampered); !errors.Is(err, tokenizer.ErrDecrypt) {
			t.Fatalf("Open(sealed with bit %d flipped) error = %v, want ErrDecrypt", i, err)
		}
	}
}

// AppendSeal writes Seal's layout with the given nonce after what dst
// holds, within dst's capacity when it fits, and Open opens it.
func TestAppendSeal(t *testing.T) {
	s, err := tokenizer.NewSealer("email", keyA)
	if err != nil {
		t.Fatal(err)
	}
	id, value := tokenizer.NewID(), []byte("alice@example.com")
	nonce := bytes.Repeat([]byte{7}, tokenizer.NonceSize)
	buf := make([]byte, 0, 3+s.SealedLen(len(value)))
	buf = append(buf, "pre"...)
	out := s.AppendSeal(buf, nonce, id, value)
	if len(out) != 3+s.SealedLen(len(value)) || &out[0] != &buf[:1][0] || string(out[:3]) != "pre" {
		t.Fatalf("AppendSeal() = %d bytes (prefix %q, same buffer %v), want %d in dst's buffer after its bytes", len(out), out[:3], &out[0] == &buf[:1][0], 3+s.SealedLen(len(value)))
	}
	sealed := out[3:]
	if !bytes.Equal(sealed[:tokenizer.NonceSize], nonce) {
		t.Errorf("AppendSeal() nonce = %x, want %x", sealed[:tokenizer.NonceSize], nonce)
	}
	if got, err := s.Open(id, sealed); err != nil || !bytes.Equal(got, value) {
		t.Errorf("Open(AppendSeal(v)) = %q, %v, want %q", got, err, value)
	}
	if _, err := s.Open(tokenizer.NewID(), sealed); !errors.Is(err, tokenizer.ErrDecrypt) {
		t.Errorf("Open(AppendSeal(v), other id) error = %v, want ErrDecrypt", err)
	}
}

func TestIndexer(t *testing.T) {
	a := tokenizer.NewIndexer(keyA)
	b := tokenizer.NewIndexer(keyB)
	v := []byte("alice@example.com")
	if !bytes.Equal(a.Index(v), a.Index(v)) {
		t.Error("Index(v) differs between calls")
	}
	if bytes.Equal(a.Index(v), a.Index([]byte("bob@example.com"))) {
		t.Error("Index() equal for different values")
	}
	if bytes.Equal(a.Index(v), b.Index(v)) {
		t.Error("Index(v) equal under different keys")
	}
}

// spellings returns every spelling of a vaulted token that names its
// identifier: the 16 values of the last character's unused bits, each in
// lower and upper case.
func spellings(tok string) []string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	var out []string
	for pad := range 16 {
		v := tok[:len(tok)-1] + string(alphabet[last&^15|pad])
		out = append(out, v, tokenizer.TokenPrefix+strings.ToUpper(v[len(tokenizer.TokenPrefix):]))
	}
	return out
}

// TestCodecOneSpelling: of the 32 spellings that name one identifier, only
// the one Encode returns decodes; Canonical maps each to it.
func TestCodecOneSpelling(t *testing.T) {
	c := tokenizer.NewCodec("email", keyA)
	for range 20 {
		id := tokenizer.NewID()
		tok := c.Encode(id)
		all := spellings(tok)
		if len(all) != 32 || !slices.Contains(all, tok) {
			t.Fatalf("spellings(%s) has %d entries, want 32 including the token", tok, len(all))
		}
		for _, v := range all {
			got, err := c.Decode(v)
			switch {
			case v == tok && (err != nil || !bytes.Equal(got, id)):
				t.Errorf("Decode(canonical) = %x, %v, want %x", got, err, id)
			case v != tok && !errors.Is(err, tokenizer.ErrMalformedToken):
				t.Errorf("Decode(%s) = %x, %v, want ErrMalformedToken (only %s is accepted)", v, got, err, tok)
			}
			if canon, ok := c.Canonical(v); !ok || canon != tok {
				t.Errorf("Canonical(%s) = %q, %v, want %q, true", v, canon, ok, tok)
			}
		}
	}
	if canon, ok := c.Canonical("pvt_canary"); ok {
		t.Errorf("Canonical(not a token) = %q, true, want false", canon)
	}
}

// The associated data is "privacyvault/v1|" class "|" id: a sealing made
// with plain AES-GCM and that layout opens, so records sealed by earlier
// versions still open, and AppendSeal produces exactly that sealing.
func TestSealerAssociatedDataLayout(t *testing.T) {
	s, err := tokenizer.NewSealer("email", keyA)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(keyA)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	id, value := tokenizer.NewID(), []byte("alice@example.com")
	nonce := bytes.Repeat([]byte{9}, tokenizer.NonceSize)
	want := gcm.Seal(bytes.Clone(nonce), nonce, value, append([]byte("privacyvault/v1|email|"), id...))
	if got := s.AppendSeal(nil, nonce, id, value); !bytes.Equal(got, want) {
		t.Errorf("AppendSeal() = %x, want %x", got, want)
	}
	if got, err := s.Open(id, want); err != nil || !bytes.Equal(got, value) {
		t.Errorf("Open(GCM sealing with the v1 layout) = %q, %v, want %q", got, err, value)
	}
}
