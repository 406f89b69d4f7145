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

// lowerEncoding is tokenEncoding spelled as tokens are: lower case.
var lowerEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// tokenLen is the length of a token: prefix and base32 of id || tag.
var tokenLen = len(TokenPrefix) + lowerEncoding.EncodedLen(IDSize+tagSize)

// Codec encodes and decodes the vaulted tokens of one class.
//
// A token is TokenPrefix followed by lower-case base32 of id || tag, where
// tag = HMAC-SHA256(tagKey, class || 0 || id) truncated to 48 bits. The tag
// key is derived from the class key, so a token pasted into another class
// does not verify.
type Codec struct {
	class  string
	tagMAC *keyedMAC
}

// NewCodec returns the codec for class with a 32-byte tag key.
func NewCodec(class string, tagKey []byte) *Codec {
	return &Codec{class: class, tagMAC: newKeyedMAC(tagKey)}
}

// NewID returns a fresh random token identifier.
func NewID() []byte {
	id := make([]byte, IDSize)
	rand.Read(id)
	return id
}

// Encode returns the token for id.
func (c *Codec) Encode(id []byte) string {
	var raw [IDSize + tagSize]byte
	var buf [64]byte
	return string(c.appendToken(buf[:0], raw[:0], id))
}

// AppendEncode appends Encode(id) to dst: a batch spells its tokens into
// shared blocks, not one allocation each.
func (c *Codec) AppendEncode(dst, id []byte) []byte {
	var raw [IDSize + tagSize]byte
	return c.appendToken(dst, raw[:0], id)
}

// appendToken appends the token of id to dst; raw is scratch space for
// id || tag.
func (c *Codec) appendToken(dst, raw, id []byte) []byte {
	raw = append(raw, id...)
	raw = c.appendTag(raw, id)
	dst = append(dst, TokenPrefix...)
	return lowerEncoding.AppendEncode(dst, raw)
}

// Decode returns the identifier inside token, or ErrMalformedToken.
//
// Only the spelling Encode returns is accepted: base32 of 22 bytes leaves 4
// unused bits in the last character, and base32 letters have two cases,
// so one identifier has 32 spellings that would otherwise all decode.
// Accepting one keeps every check that compares tokens (honeytokens,
// audit fingerprints, caches) from being bypassed by another spelling.
func (c *Codec) Decode(token string) ([]byte, error) {
	id, canonical, err := c.decode(token)
	if err != nil || !canonical {
		return nil, ErrMalformedToken
	}
	return id, nil
}

// Canonical returns the one accepted spelling of token when token names a
// valid identifier of this codec under any spelling (upper case, non-zero
// unused bits). It is for matching what a token names, never for access:
// Decode still refuses the other spellings.
func (c *Codec) Canonical(token string) (string, bool) {
	id, _, err := c.decode(token)
	if err != nil {
		return "", false
	}
	return c.Encode(id), true
}

// decode verifies token under any spelling and reports whether it was the
// canonical one.
func (c *Codec) decode(token string) (id []byte, canonical bool, err error) {
	if id, ok := c.decodeCanonical(token); ok {
		return id, true, nil
	}
	if len(token) < len(TokenPrefix) || !strings.EqualFold(token[:len(TokenPrefix)], TokenPrefix) {
		return nil, false, ErrMalformedToken
	}
	body := token[len(TokenPrefix):]
	if len(body) != tokenEncoding.EncodedLen(IDSize+tagSize) {
		return nil, false, ErrMalformedToken
	}
	raw, err := tokenEncoding.DecodeString(strings.ToUpper(body))
	if err != nil || len(raw) != IDSize+tagSize {
		return nil, false, ErrMalformedToken
	}
	id, tag := raw[:IDSize], raw[IDSize:]
	var sum [sha256.Size]byte
	if !hmac.Equal(tag, c.appendTag(sum[:0], id)) {
		return nil, false, ErrMalformedToken
	}
	var buf [64]byte
	canonical = token == string(c.appendToken(buf[:0], sum[:0], id))
	return id, canonical, nil
}

// decodeCanonical returns the identifier of token if token is the
// spelling Encode gives and its tag verifies: the one case a batch
// decodes by the thousand, without allocating more than the identifier.
func (c *Codec) decodeCanonical(token string) ([]byte, bool) {
	if len(token) != tokenLen || token[:len(TokenPrefix)] != TokenPrefix {
		return nil, false
	}
	var raw [IDSize + tagSize]byte
	var body [64]byte
	n, err := lowerEncoding.Decode(raw[:], append(body[:0], token[len(TokenPrefix):]...))
	if err != nil || n != len(raw) {
		return nil, false
	}
	var sum [sha256.Size]byte
	if !hmac.Equal(raw[IDSize:], c.appendTag(sum[:0], raw[:IDSize])) {
		return nil, false
	}
	// The last character carries 4 unused bits: only zero bits are the
	// canonical spelling, so compare with the re-encoding.
	var again [64]byte
	if string(lowerEncoding.AppendEncode(append(again[:0], TokenPrefix...), raw[:])) != token {
		return nil, false
	}
	return append([]byte(nil), raw[:IDSize]...), true
}

// appendTag appends the tag of id to dst.
func (c *Codec) appendTag(dst, id []byte) []byte {
	var sum [sha256.Size]byte
	return append(dst, c.tagMAC.sum(sum[:0], []byte(c.class), []byte{0}, id)[:tagSize]...)
}
