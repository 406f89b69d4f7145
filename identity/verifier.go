package identity

import "crypto/x509"

// Credential is what a caller presents on a call: a bearer token, the
// client certificate chain of its TLS connection (leaf first), or the uid
// of its Unix socket peer. A verifier looks at the part it knows.
type Credential struct {
	Bearer           string
	PeerCertificates []*x509.Certificate
	UID              uint32
	HasUID           bool
}

// Verifier establishes the identity behind a credential. Every failure
// wraps ErrUnauthenticated and never quotes the credential. Implementations
// must pass identitytest.RunVerifier.
type Verifier interface {
	Authenticate(c Credential) (Identity, error)
}

var (
	_ Verifier = (*JWTVerifier)(nil)
	_ Verifier = (*SPIFFEVerifier)(nil)
	_ Verifier = (*UIDMap)(nil)
	_ Verifier = (*StaticTokens)(nil)
)

// Authenticate implements Verifier with Verify(c.Bearer).
func (v *JWTVerifier) Authenticate(c Credential) (Identity, error) { return v.Verify(c.Bearer) }

// Authenticate implements Verifier with VerifyPeer(c.PeerCertificates).
func (v *SPIFFEVerifier) Authenticate(c Credential) (Identity, error) {
	return v.VerifyPeer(c.PeerCertificates)
}

// Authenticate implements Verifier with Lookup(c.UID).
func (u *UIDMap) Authenticate(c Credential) (Identity, error) {
	if !c.HasUID {
		return "", unauthenticated("no Unix socket peer")
	}
	return u.Lookup(c.UID)
}

// Authenticate implements Verifier with Verify(c.Bearer).
func (s *StaticTokens) Authenticate(c Credential) (Identity, error) { return s.Verify(c.Bearer) }
