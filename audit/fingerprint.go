package audit

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync"
	"unsafe"
)

// FingerprintKeySize is the minimum key size NewFingerprinter accepts.
const FingerprintKeySize = 16

// Fingerprint spellings. Subjects, and tokens in logs written before
// version 2, are 32 lowercase hex digits: the first 16 bytes of the HMAC.
// Tokens from version 2 on are 18 base64url digits (RFC 4648, no padding):
// the first 13 bytes of the same HMAC, so an investigator who computes a
// token's HMAC finds it in old and new logs alike. A batch event carries
// one fingerprint per token, so this is most of what the audit log costs
// per token: 21 bytes in JSON instead of 35. 104 bits keep collisions out
// of reach: among a billion tokens of a class, the chance that any two
// share a fingerprint is about 10^-14.
const (
	fingerprintLen   = 32 // hex digits of a subject or version 1 token fingerprint
	fingerprintBytes = fingerprintLen / 2
	tokenFPBytes     = 13
	tokenFPChars     = (tokenFPBytes*8 + 5) / 6 // base64url digits of a version 2 token fingerprint
)

// Fingerprinter computes keyed fingerprints of tokens and subject ids:
// stable, so an investigator holding the key can match events to a token
// or a person, and keyed, so the log alone does not let anyone test a
// guessed value. It is safe for concurrent use.
type Fingerprinter struct {
	mac *macKey
	// macs holds scratch states for mac, one per goroutine at a time.
	macs sync.Pool
}

// NewFingerprinter returns a Fingerprinter keyed with a copy of key, which
// must be at least FingerprintKeySize bytes.
func NewFingerprinter(key []byte) (*Fingerprinter, error) {
	if len(key) < FingerprintKeySize {
		return nil, fmt.Errorf("audit: fingerprint key is %d bytes, want at least %d", len(key), FingerprintKeySize)
	}
	f := &Fingerprinter{mac: newMACKey(key)}
	f.macs.New = func() any { return newMACState() }
	return f, nil
}

// Token returns the fingerprint of token in class: base64url of the
// first 13 bytes of HMAC-SHA256 (version 2). The class is part of the
// input, so the same token string in two classes gives two fingerprints.
func (f *Fingerprinter) Token(class, token string) string {
	sum := f.sum("token", class, token)
	var out [tokenFPChars]byte
	base64.RawURLEncoding.Encode(out[:], sum[:tokenFPBytes])
	return string(out[:])
}

// TokenSet spells the token fingerprints of one batch in one allocation
// (Fingerprinter.TokenSet): a batch of 1,000 otherwise allocates 1,000
// small strings, and the collector has as many objects to free.
type TokenSet struct {
	f   *Fingerprinter
	buf []byte // slot i is buf[i*tokenFPChars:][:tokenFPChars]
}

// TokenSet returns a set of n slots.
func (f *Fingerprinter) TokenSet(n int) TokenSet {
	return TokenSet{f: f, buf: make([]byte, n*tokenFPChars)}
}

// Token returns Token(class, token), spelled in slot i of s. Slots may be
// filled concurrently. The string shares the slot's memory, which is
// written here once and never again: a slot already filled (a caller's
// bug) gets a string of its own instead.
func (s TokenSet) Token(i int, class, token string) string {
	out := s.buf[i*tokenFPChars : (i+1)*tokenFPChars]
	if out[0] != 0 { // base64url digits are never 0
		return s.f.Token(class, token)
	}
	sum := s.f.sum("token", class, token)
	base64.RawURLEncoding.Encode(out, sum[:tokenFPBytes])
	return unsafe.String(&out[0], len(out))
}

// TokenV1 returns the version 1 fingerprint of token in class, as logs
// and deletion records written before version 2 hold it: hex of the first
// 16 bytes of the same HMAC-SHA256 as Token.
func (f *Fingerprinter) TokenV1(class, token string) string {
	return hexFP(f.sum("token", class, token))
}

// Subject returns the fingerprint of a data subject id, in a domain
// separate from tokens: hex of the first 16 bytes of HMAC-SHA256. Stores
// key consents and subject keys by it, so its spelling never changes.
func (f *Fingerprinter) Subject(id string) string {
	return hexFP(f.sum("subject", id))
}

// sum is HMAC-SHA256(key, "privacyvault/audit/v1/" domain 0x00 then each
// part as an 8-byte big-endian length and its bytes); the lengths keep
// ("ab", "c") and ("a", "bc") apart. The message is built in the pooled
// state's buffer and hashed at once: a batch fingerprints every token,
// and per-part writes and conversions cost five allocations a token.
func (f *Fingerprinter) sum(domain string, parts ...string) [sha256.Size]byte {
	st := f.macs.Get().(*macState)
	defer f.macs.Put(st)
	b := append(st.buf[:0], "privacyvault/audit/v1/"...)
	b = append(append(b, domain...), 0)
	for _, p := range parts {
		b = binary.BigEndian.AppendUint64(b, uint64(len(p)))
		b = append(b, p...)
	}
	st.buf = b
	sum := f.mac.sum(st)
	if cap(st.buf) > 1024 {
		st.buf = make([]byte, 0, 256) // a huge part grew it: not kept
	}
	return sum
}

// hexFP spells a subject or version 1 token fingerprint: hex of the first
// 16 bytes of sum.
func hexFP(sum [sha256.Size]byte) string {
	var out [fingerprintLen]byte
	hex.Encode(out[:], sum[:fingerprintBytes])
	return string(out[:])
}

// isTokenFingerprint reports whether s has the shape of a token
// fingerprint of either version: 32 lowercase hex digits, or 18 base64url
// digits that decode strictly (the last digit carries 2 bits and 4 zero
// bits, so it is one of A, Q, g and w: no string of decimal digits, such
// as a card number's token passed by mistake, has the shape).
func isTokenFingerprint(s string) bool {
	if len(s) == tokenFPChars {
		// What a strict decode accepts, one table lookup a digit: every
		// event's fingerprints are checked on append.
		for i := 0; i < len(s); i++ {
			if base64URLDigit[s[i]] < 0 {
				return false
			}
		}
		return base64URLDigit[s[len(s)-1]]&0x0f == 0
	}
	return isFingerprint(s)
}

// base64URLDigit is the value of each base64url digit, -1 for other bytes.
var base64URLDigit = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for v, c := range []byte(alphabet) {
		t[c] = int8(v)
	}
	return t
}()

// isFingerprint reports whether s has the shape of a subject (or version
// 1 token) fingerprint: 32 lowercase hex digits.
func isFingerprint(s string) bool {
	if len(s) != fingerprintLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
