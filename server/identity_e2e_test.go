package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// testCA issues certificates for the identity tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) issue(t *testing.T, spiffeID string, server bool) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if spiffeID != "" {
		u, _ := url.Parse(spiffeID)
		tmpl.URIs = []*url.URL{u}
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// jwtIssuer signs test JWTs with an RSA key published in a JWKS file.
type jwtIssuer struct {
	signer jose.Signer
}

func newJWTIssuer(t *testing.T, jwksPath string) *jwtIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	b, _ := json.Marshal(set)
	if err := os.WriteFile(jwksPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	return &jwtIssuer{signer: s}
}

func (j *jwtIssuer) token(t *testing.T, sub, aud string, exp time.Time) string {
	t.Helper()
	tok, err := jwt.Signed(j.signer).Claims(jwt.Claims{
		Issuer: "https://issuer.test", Subject: sub, Audience: jwt.Audience{aud},
		Expiry: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(time.Now().Add(-time.Minute)),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// identityWorld is a TLS sidecar with mTLS (SPIFFE) and JWT identities.
type identityWorld struct {
	h                        *servertest.Harness
	ca                       *testCA
	roots                    *x509.CertPool
	issuer                   *jwtIssuer
	checkout, cart, stranger tls.Certificate
}

func newIdentityWorld(t *testing.T) *identityWorld {
	t.Helper()
	dir := t.TempDir()
	w := &identityWorld{ca: newCA(t, "prod CA")}
	other := newCA(t, "other CA")
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", w.ca.cert.Raw)
	srv := w.ca.issue(t, "", true)
	writePEM(t, filepath.Join(dir, "server.pem"), "CERTIFICATE", srv.Certificate[0])
	keyDER, _ := x509.MarshalPKCS8PrivateKey(srv.PrivateKey)
	writePEM(t, filepath.Join(dir, "server-key.pem"), "PRIVATE KEY", keyDER)
	w.roots = x509.NewCertPool()
	w.roots.AddCert(w.ca.cert)
	w.checkout = w.ca.issue(t, "spiffe://prod.example/ns/shop/checkout", false)
	w.cart = w.ca.issue(t, "spiffe://prod.example/ns/shop/cart", false)
	w.stranger = other.issue(t, "spiffe://prod.example/ns/shop/checkout", false)
	w.issuer = newJWTIssuer(t, filepath.Join(dir, "jwks.json"))
	cfg := fmt.Sprintf(`
classes:
  - {name: card_number, mode: random, format: {name: credit_card}}
  - {name: email, mode: deterministic}
identity:
  mtls: {ca_bundle_file: %[1]s/ca.pem, trust_domain: prod.example, cert_file: %[1]s/server.pem, key_file: %[1]s/server-key.pem}
  jwt: {jwks_file: %[1]s/jwks.json, issuer: "https://issuer.test", audience: privacyvault}
subject_managers: [dpo]
policy:
  purposes: [{name: payment}, {name: support}, {name: marketing, requires_consent: true}]
  grants:
    - {identity: "spiffe://prod.example/ns/shop/checkout", purpose: payment, class: card_number, reveal: plain}
    - {identity: "spiffe://prod.example/ns/shop/*", purpose: payment, class: card_number, reveal: masked}
    - {identity: crm, purpose: marketing, class: email, reveal: plain}
    - {identity: agent-7, purpose: support, class: "*", reveal: redacted}
`, dir)
	w.h = servertest.Start(t, servertest.Options{Config: []byte(cfg), HTTP: true})
	return w
}

func (w *identityWorld) dial(t *testing.T, cert *tls.Certificate, bearer string) *client.Client {
	t.Helper()
	tc := &tls.Config{RootCAs: w.roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	opts := []client.Option{client.WithTLS(tc)}
	if bearer != "" {
		opts = append(opts, client.WithBearerToken(bearer))
	}
	c, err := client.Dial(w.h.Addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestIdentityPolicyConsentMatrix: identity source × grant × purpose ×
// class × consent state → code and reveal level, over real gRPC with TLS.
func TestIdentityPolicyConsentMatrix(t *testing.T) {
	w := newIdentityWorld(t)
	ctx := context.Background()
	app := w.dial(t, &w.checkout, "")
	card, err := app.Tokenize(ctx, "card_number", []byte("4111111111111111"))
	if err != nil {
		t.Fatalf("Tokenize(card) over mTLS: %v", err)
	}
	emails := map[string]string{}
	for _, subj := range []string{"cust-live", "cust-none", "cust-revoked"} {
		res, err := app.TokenizeBatch(ctx, []client.TokenizeItem{{Class: "email", Value: []byte(subj + "@example.com"), SubjectID: subj}})
		if err != nil || res[0].Err != nil {
			t.Fatalf("Tokenize(email of %s): %v %v", subj, err, res)
		}
		emails[subj] = res[0].Token
	}
	dpo := w.dial(t, nil, w.issuer.token(t, "dpo", "privacyvault", time.Now().Add(time.Hour)))
	for _, subj := range []string{"cust-live", "cust-revoked"} {
		if _, err := dpo.SetConsent(ctx, subj, "marketing", "consent", time.Time{}); err != nil {
			t.Fatalf("SetConsent(%s): %v", subj, err)
		}
	}
	if _, err := dpo.RevokeConsent(ctx, "cust-revoked", "marketing"); err != nil {
		t.Fatalf("RevokeConsent: %v", err)
	}
	valid := func(sub string) string { return w.issuer.token(t, sub, "privacyvault", time.Now().Add(time.Hour)) }
	tests := []struct {
		name      string
		cert      *tls.Certificate
		bearer    string
		purpose   string
		class     string
		token     string
		wantCode  codes.Code
		wantLevel client.Level
	}{
		{"mtls exact grant plain", &w.checkout, "", "payment", "card_number", card, codes.OK, client.Plain},
		{"mtls pattern grant masked", &w.cart, "", "payment", "card_number", card, codes.OK, client.Masked},
		{"mtls cert from another CA", &w.stranger, "", "payment", "card_number", card, codes.Unauthenticated, 0},
		{"mtls wrong purpose", &w.checkout, "", "support", "card_number", card, codes.PermissionDenied, 0},
		{"mtls no grant for class", &w.checkout, "", "payment", "email", emails["cust-live"], codes.PermissionDenied, 0},
		{"jwt live consent", nil, valid("crm"), "marketing", "email", emails["cust-live"], codes.OK, client.Plain},
		{"jwt no consent", nil, valid("crm"), "marketing", "email", emails["cust-none"], codes.PermissionDenied, 0},
		{"jwt revoked consent", nil, valid("crm"), "marketing", "email", emails["cust-revoked"], codes.PermissionDenied, 0},
		{"jwt redacted grant", nil, valid("agent-7"), "support", "card_number", card, codes.OK, client.Redacted},
		{"jwt undeclared purpose", nil, valid("crm"), "fun", "email", emails["cust-live"], codes.PermissionDenied, 0},
		{"jwt expired", nil, w.issuer.token(t, "crm", "privacyvault", time.Now().Add(-10*time.Minute)), "marketing", "email", emails["cust-live"], codes.Unauthenticated, 0},
		{"jwt wrong audience", nil, w.issuer.token(t, "crm", "someone-else", time.Now().Add(time.Hour)), "marketing", "email", emails["cust-live"], codes.Unauthenticated, 0},
		{"jwt garbage", nil, "not.a.jwt", "marketing", "email", emails["cust-live"], codes.Unauthenticated, 0},
		{"no credentials", nil, "", "payment", "card_number", card, codes.Unauthenticated, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.dial(t, tt.cert, tt.bearer).Detokenize(ctx, tt.purpose, tt.class, tt.token)
			if status.Code(err) != tt.wantCode || got.Level != tt.wantLevel {
				t.Errorf("Detokenize(%s) = level %v, %v; want %v, %v", tt.name, got.Level, err, tt.wantLevel, tt.wantCode)
			}
		})
	}
}

// TestUnixPeerIdentity maps the Unix socket peer's uid to an identity.
func TestUnixPeerIdentity(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "pv.sock")
	tests := []struct {
		name string
		uid  int
		want codes.Code
	}{
		{"mapped uid", os.Getuid(), codes.OK},
		{"unmapped uid", os.Getuid() + 1, codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fmt.Sprintf(`
server: {listen: "unix://%s"}
classes: [{name: email, mode: deterministic}]
identity: {unix_uids: {%d: local-app}}
policy:
  grants: [{identity: local-app, purpose: payment, class: email, reveal: plain}]
`, sock, tt.uid)
			h := servertest.Start(t, servertest.Options{Config: []byte(cfg), KeepListen: true})
			c, err := client.Dial("unix://"+sock, client.WithInsecure())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, err = c.Tokenize(context.Background(), "email", []byte("local@example.com"))
			if status.Code(err) != tt.want {
				t.Errorf("Tokenize over unix socket as %s = %v, want %v", tt.name, err, tt.want)
			}
			h.Stop()
		})
	}
}
