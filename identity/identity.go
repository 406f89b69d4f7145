// Package identity says who is calling. A verifier turns a credential into
// an identity; the server puts it in the request context.
package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
)

// ErrUnauthenticated means the credential is missing or matches no caller.
// The message never repeats the credential.
var ErrUnauthenticated = errors.New("missing or invalid credentials")

// Identity is an authenticated caller, e.g. "checkout" or a SPIFFE ID.
type Identity string

type ctxKey struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identity in ctx, if any.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok && id != ""
}

// StaticTokens maps bearer tokens to identities. It is the development
// credential scheme: tokens are compared in constant time over their
// SHA-256 digests, so neither a token's content nor its length leaks
// through timing.
type StaticTokens struct {
	entries []staticEntry
}

type staticEntry struct {
	digest [sha256.Size]byte
	id     Identity
}

// NewStaticTokens returns a verifier for tokens (token → identity).
func NewStaticTokens(tokens map[string]Identity) *StaticTokens {
	s := &StaticTokens{}
	for tok, id := range tokens {
		s.entries = append(s.entries, staticEntry{digest: sha256.Sum256([]byte(tok)), id: id})
	}
	return s
}

// Verify returns the identity of token or ErrUnauthenticated. It checks
// every entry, so the time taken does not depend on which one matched.
func (s *StaticTokens) Verify(token string) (Identity, error) {
	d := sha256.Sum256([]byte(token))
	var found Identity
	for _, e := range s.entries {
		if subtle.ConstantTimeCompare(d[:], e.digest[:]) == 1 {
			found = e.id
		}
	}
	if found == "" || token == "" {
		return "", ErrUnauthenticated
	}
	return found, nil
}
