// Package identitytest is the conformance suite every identity.Verifier
// must pass (JWT, SPIFFE, Unix peer, static tokens).
package identitytest

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/identity"
)

// Case is one credential and the identity it stands for ("" for none).
type Case struct {
	Name string
	Cred identity.Credential
	Want identity.Identity
}

// RunVerifier checks that v accepts each of good with its identity, and
// refuses each of bad, and an empty credential, with an error wrapping
// identity.ErrUnauthenticated that quotes no part of the credential.
func RunVerifier(t *testing.T, v identity.Verifier, good, bad []Case) {
	if len(good) == 0 || len(bad) == 0 {
		t.Fatal("RunVerifier needs good and bad credentials")
	}
	for _, tt := range good {
		t.Run("accepts/"+tt.Name, func(t *testing.T) {
			if got, err := v.Authenticate(tt.Cred); err != nil || got != tt.Want {
				t.Errorf("Authenticate(%s) = %q, %v; want %q, nil", tt.Name, got, err, tt.Want)
			}
		})
	}
	for _, tt := range append(bad, Case{Name: "empty credential"}) {
		t.Run("refuses/"+tt.Name, func(t *testing.T) {
			got, err := v.Authenticate(tt.Cred)
			if !errors.Is(err, identity.ErrUnauthenticated) || got != "" {
				t.Fatalf("Authenticate(%s) = %q, %v; want \"\", an error wrapping ErrUnauthenticated", tt.Name, got, err)
			}
			for _, part := range quotable(tt.Cred) {
				if strings.Contains(err.Error(), part) {
					t.Errorf("Authenticate(%s) error %q quotes the credential (%q)", tt.Name, err, part)
				}
			}
		})
	}
}

// quotable returns the parts of c an error must not quote: the bearer
// token and each of its dot-separated parts, the certificates' URIs and
// subjects, the uid.
func quotable(c identity.Credential) []string {
	var out []string
	if c.Bearer != "" {
		out = append(out, c.Bearer)
		for _, p := range strings.Split(c.Bearer, ".") {
			if len(p) >= 8 {
				out = append(out, p)
			}
		}
	}
	for _, cert := range c.PeerCertificates {
		for _, u := range cert.URIs {
			out = append(out, u.String())
		}
		if cn := cert.Subject.CommonName; cn != "" {
			out = append(out, cn)
		}
	}
	if c.HasUID {
		out = append(out, strconv.FormatUint(uint64(c.UID), 10))
	}
	return out
}

// Accept is a credential v must accept as want.
func Accept(name string, c identity.Credential, want identity.Identity) Case {
	return Case{Name: name, Cred: c, Want: want}
}

// Refuse is a credential v must refuse.
func Refuse(name string, c identity.Credential) Case { return Case{Name: name, Cred: c} }
