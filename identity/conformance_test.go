package identity_test

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/privacyvault/privacyvault/identity"
	"github.com/privacyvault/privacyvault/identity/identitytest"
)

// TestVerifierConformance runs the one suite over every identity source.
func TestVerifierConformance(t *testing.T) {
	t.Run("JWT", func(t *testing.T) {
		k := testJWTKeys()
		clock := newFakeClock()
		now := clock.Now()
		v, _ := newJWTVerifier(t, clock, identity.JWTConfig{})
		bearer := func(s string) identity.Credential { return identity.Credential{Bearer: s} }
		identitytest.RunVerifier(t, v,
			[]identitytest.Case{identitytest.Accept("RS256", bearer(sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, keep))), "checkout")},
			[]identitytest.Case{
				identitytest.Refuse("unknown key", bearer(sign(t, k.rsaOther, jose.RS256, "rsa-1", claimsAt(now, keep)))),
				identitytest.Refuse("expired", bearer(sign(t, k.ec, jose.ES256, "ec-1", claimsAt(now, func(c *jwt.Claims) {
					c.Expiry = jwt.NewNumericDate(now.Add(-time.Hour))
				})))),
				identitytest.Refuse("wrong audience", bearer(sign(t, k.ec, jose.ES256, "ec-1", claimsAt(now, func(c *jwt.Claims) {
					c.Audience = jwt.Audience{"someone-else"}
				})))),
				identitytest.Refuse("not a JWT", bearer("eyJhbGciOi.not-base64-at-all.signature-part")),
				identitytest.Refuse("a certificate, no token", identity.Credential{PeerCertificates: []*x509.Certificate{newCA(t, "root").client(t, workloadID)}}),
			})
	})
	t.Run("SPIFFE", func(t *testing.T) {
		ca, other := newCA(t, "root"), newCA(t, "other-root")
		v, _ := newSPIFFEVerifier(t, newFakeClock(), "example.org", ca)
		chain := func(c ...*x509.Certificate) identity.Credential { return identity.Credential{PeerCertificates: c} }
		identitytest.RunVerifier(t, v,
			[]identitytest.Case{identitytest.Accept("leaf of the bundle's CA", chain(ca.client(t, workloadID)), workloadID)},
			[]identitytest.Case{
				identitytest.Refuse("another CA", chain(other.client(t, workloadID))),
				identitytest.Refuse("another trust domain", chain(ca.client(t, "spiffe://elsewhere.example/ns/prod/sa/checkout"))),
				identitytest.Refuse("not a SPIFFE ID", chain(ca.client(t, "https://example.org/checkout"))),
				identitytest.Refuse("a bearer token, no certificate", identity.Credential{Bearer: "secret-bearer-token-1234"}),
			})
	})
	t.Run("UnixPeer", func(t *testing.T) {
		v := identity.NewUIDMap(map[uint32]identity.Identity{1001: "billing"})
		identitytest.RunVerifier(t, v,
			[]identitytest.Case{identitytest.Accept("mapped uid", identity.Credential{UID: 1001, HasUID: true}, "billing")},
			[]identitytest.Case{
				identitytest.Refuse("unmapped uid", identity.Credential{UID: 4242424, HasUID: true}),
				identitytest.Refuse("a bearer token, no peer", identity.Credential{Bearer: "secret-bearer-token-1234"}),
			})
	})
	t.Run("Static", func(t *testing.T) {
		tok := "dev-" + strings.Repeat("s3cr3t", 4)
		v := identity.NewStaticTokens(map[string]identity.Identity{tok: "crm"})
		identitytest.RunVerifier(t, v,
			[]identitytest.Case{identitytest.Accept("known token", identity.Credential{Bearer: tok}, "crm")},
			[]identitytest.Case{
				identitytest.Refuse("unknown token", identity.Credential{Bearer: tok + "x"}),
				identitytest.Refuse("a prefix of a token", identity.Credential{Bearer: tok[:10]}),
			})
	})
}
