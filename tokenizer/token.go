package tokenizer

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// IDSize is the size of a vaulted token's random identifier: 128 bits, so
// guessing a live token is infeasible and collisions are checked anyway.
const IDSize = 16

// tagSize is the integrity tag appended to the identifier. 48 bits make a
// tampered or foreign-class token fail before any storage lookup.
const tagSize = 6

// TokenPrefix starts every vaulted token, so tokens are recognisable in
// logs and data stores (and by secret scanners).
const TokenPrefix = "pvt_"

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Codec encodes and decodes the vaulted tokens of one class.
//
// A token is TokenPrefix followed by lower-case base32 of id || tag, where
// tag = HMAC-SHA256(tagKey, class || 0 || id) truncated to 48 bits. The tag
// key is derived from the class key, so a token pasted into another class
// does not verify.
type Codec struct {
	class  string
	tagKey []byte
}

// NewCodec returns the codec for class with a 32-byte tag key.
func NewCodec(class string, tagKey []byte) *Codec {
	return &Codec{class: class, tagKey: tagKey}
}

// NewID returns a fresh random token identifier.
func NewID() []byte {
	id := make([]byte, IDSize)
	rand.Read(id)
	return id
}

// Encode returns the token for id.
func (c *Codec) Encode(id []byte) string {
	raw := make([]byte, 0, IDSize+tagSize)
	raw = append(raw, id...)
	raw = append(raw, c.tag(id)...)
	return TokenPrefix + strings.ToLower(tokenEncoding.EncodeToString(raw))
}

// Decode returns the identifier inside token, or ErrMalformedToken.
func (c *Codec) Decode(token string) ([]byte, error) {
	body, ok := strings.CutPrefix(token, TokenPrefix)
	if !ok || len(body) != tokenEncoding.EncodedLen(IDSize+tagSize) {
		return nil, ErrMalformedToken
	}
	raw, err := tokenEncoding.DecodeString(strings.ToUpper(body))
	if err != nil || len(raw) != IDSize+tagSize {
		return nil, ErrMalformedToken
	}
	id, tag := raw[:IDSize], raw[IDSize:]
	if !hmac.Equal(tag, c.tag(id)) {
		return nil, ErrMalformedToken
	}
	return id, nil
}

func (c *Codec) tag(id []byte) []byte {
	m := hmac.New(sha256.New, c.tagKey)
	m.Write([]byte(c.class))
	m.Write([]byte{0})
	m.Write(id)
	return m.Sum(nil)[:tagSize]
}
