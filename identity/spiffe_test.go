package identity_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/identity"
)

// testCA is a CA that issues certificates for tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// create signs tmpl for pub with parent (self-signed if parent is nil).
func create(t *testing.T, tmpl *x509.Certificate, pub *ecdsa.PublicKey, parent *testCA, selfKey *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	parentCert, signer := tmpl, selfKey
	if parent != nil {
		parentCert, signer = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func caTemplate(name string) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	k := newKey(t)
	return &testCA{cert: create(t, caTemplate(name), &k.PublicKey, nil, k), key: k}
}

// intermediate returns a CA signed by ca.
func (ca *testCA) intermediate(t *testing.T, name string) *testCA {
	t.Helper()
	k := newKey(t)
	return &testCA{cert: create(t, caTemplate(name), &k.PublicKey, ca, nil), key: k}
}

// leafTemplate is an X.509-SVID template for client auth with the given
// URI SANs (parsed without checks), changed by mod.
func leafTemplate(t *testing.T, uris []string, mod func(*x509.Certificate)) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	mod(tmpl)
	return tmpl
}

func keepCert(*x509.Certificate) {}

// issue returns a client certificate and its key from ca.
func (ca *testCA) issue(t *testing.T, tmpl *x509.Certificate) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	k := newKey(t)
	return create(t, tmpl, &k.PublicKey, ca, nil), k
}

func (ca *testCA) client(t *testing.T, uri string) *x509.Certificate {
	t.Helper()
	c, _ := ca.issue(t, leafTemplate(t, []string{uri}, keepCert))
	return c
}

func pemOf(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func newSPIFFEVerifier(t *testing.T, clock *fakeClock, trustDomain string, cas ...*testCA) (*identity.SPIFFEVerifier, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bundle.pem")
	var certs []*x509.Certificate
	for _, ca := range cas {
		certs = append(certs, ca.cert)
	}
	replaceFile(t, path, pemOf(certs...))
	v, err := identity.NewSPIFFEVerifier(identity.SPIFFEConfig{CABundleFile: path, TrustDomain: trustDomain, Logger: quiet})
	if err != nil {
		t.Fatalf("NewSPIFFEVerifier = %v, want nil", err)
	}
	identity.SetSPIFFEReloadClock(v, clock.Now)
	return v, path
}

const workloadID = "spiffe://example.org/ns/prod/sa/checkout"

func TestSPIFFEVerifyPeerAccepts(t *testing.T) {
	ca := newCA(t, "root")
	inter := ca.intermediate(t, "intermediate")
	clock := newFakeClock()
	open, _ := newSPIFFEVerifier(t, clock, "", ca)
	pinned, _ := newSPIFFEVerifier(t, clock, "example.org", ca)
	tests := []struct {
		name  string
		v     *identity.SPIFFEVerifier
		certs []*x509.Certificate
		want  identity.Identity
	}{
		{"direct leaf", open, []*x509.Certificate{ca.client(t, workloadID)}, workloadID},
		{"leaf via intermediate", open, []*x509.Certificate{inter.client(t, workloadID), inter.cert}, workloadID},
		{"trust domain pinned", pinned, []*x509.Certificate{ca.client(t, workloadID)}, workloadID},
		{"other trust domain, none pinned", open, []*x509.Certificate{ca.client(t, "spiffe://other.example/w")}, "spiffe://other.example/w"},
		{"path chars", open, []*x509.Certificate{ca.client(t, "spiffe://td_1.example-x/A.b-c_d/9")}, "spiffe://td_1.example-x/A.b-c_d/9"},
	}
	for _, tt := range tests {
		got, err := tt.v.VerifyPeer(tt.certs)
		if got != tt.want || err != nil {
			t.Errorf("VerifyPeer(%s) = %q, %v, want %q, nil", tt.name, got, err, tt.want)
		}
	}
}

func TestSPIFFEVerifyPeerRejects(t *testing.T) {
	ca := newCA(t, "root")
	other := newCA(t, "other root")
	inter := ca.intermediate(t, "intermediate")
	clock := newFakeClock()
	open, _ := newSPIFFEVerifier(t, clock, "", ca)
	pinned, _ := newSPIFFEVerifier(t, clock, "example.org", ca)
	uris := func(us ...string) *x509.Certificate {
		c, _ := ca.issue(t, leafTemplate(t, us, keepCert))
		return c
	}
	with := func(mod func(*x509.Certificate)) *x509.Certificate {
		c, _ := ca.issue(t, leafTemplate(t, []string{workloadID}, mod))
		return c
	}
	tests := []struct {
		name   string
		v      *identity.SPIFFEVerifier
		certs  []*x509.Certificate
		reason string // in the error message
	}{
		{"no certificate", open, nil, "no client certificate"},
		{"nil certificate", open, []*x509.Certificate{nil}, "no client certificate"},
		{"other CA", open, []*x509.Certificate{other.client(t, workloadID)}, "unknown authority"},
		{"intermediate not sent", open, []*x509.Certificate{inter.client(t, workloadID)}, "unknown authority"},
		{"intermediate of other CA", open, []*x509.Certificate{inter.client(t, workloadID), other.cert}, "unknown authority"},
		{"server auth only", open, []*x509.Certificate{with(func(c *x509.Certificate) {
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		})}, "key usage"},
		{"expired", open, []*x509.Certificate{with(func(c *x509.Certificate) { c.NotAfter = time.Now().Add(-time.Minute) })}, "expired"},
		{"leaf is a CA", open, []*x509.Certificate{with(func(c *x509.Certificate) {
			c.IsCA, c.BasicConstraintsValid, c.KeyUsage = true, true, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature
		})}, "is a CA"},
		{"no URI SAN", open, []*x509.Certificate{uris()}, "0 URI SANs"},
		{"two spiffe URI SANs", open, []*x509.Certificate{uris(workloadID, "spiffe://example.org/other")}, "2 URI SANs"},
		{"spiffe and https URI SANs", open, []*x509.Certificate{uris(workloadID, "https://example.org/")}, "2 URI SANs"},
		{"https URI SAN", open, []*x509.Certificate{uris("https://example.org/ns/prod")}, "scheme"},
		{"no path", open, []*x509.Certificate{uris("spiffe://example.org")}, "path"},
		{"root path", open, []*x509.Certificate{uris("spiffe://example.org/")}, "path"},
		{"empty segment", open, []*x509.Certificate{uris("spiffe://example.org/a//b")}, "path"},
		{"dot-dot segment", open, []*x509.Certificate{uris("spiffe://example.org/a/../b")}, "path"},
		{"trailing slash", open, []*x509.Certificate{uris("spiffe://example.org/a/")}, "path"},
		{"percent-encoded path", open, []*x509.Certificate{uris("spiffe://example.org/%41")}, "path"},
		{"uppercase trust domain", open, []*x509.Certificate{uris("spiffe://Example.org/a")}, "trust domain"},
		{"port", open, []*x509.Certificate{uris("spiffe://example.org:8443/a")}, "trust domain"},
		{"user", open, []*x509.Certificate{uris("spiffe://u@example.org/a")}, "user"},
		{"query", open, []*x509.Certificate{uris("spiffe://example.org/a?b=c")}, "query"},
		{"fragment", open, []*x509.Certificate{uris("spiffe://example.org/a#b")}, "fragment"},
		{"too long", open, []*x509.Certificate{uris("spiffe://example.org/" + strings.Repeat("a", 2048))}, "too long"},
		{"trust domain mismatch", pinned, []*x509.Certificate{uris("spiffe://evil.org/ns/prod/sa/checkout")}, "trust domain"},
		{"trust domain suffix", pinned, []*x509.Certificate{uris("spiffe://example.org.evil/ns/prod")}, "trust domain"},
	}
	for _, tt := range tests {
		got, err := tt.v.VerifyPeer(tt.certs)
		if got != "" || !errors.Is(err, identity.ErrUnauthenticated) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("VerifyPeer(%s) = %q, %v, want \"\", ErrUnauthenticated (%s)", tt.name, got, err, tt.reason)
		}
	}
}

func TestNewSPIFFEVerifierConfigErrors(t *testing.T) {
	ca := newCA(t, "root")
	dir := t.TempDir()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		replaceFile(t, p, data)
		return p
	}
	good := file("good.pem", pemOf(ca.cert))
	keyDER, err := x509.MarshalECPrivateKey(ca.key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  identity.SPIFFEConfig
	}{
		{"no bundle file", identity.SPIFFEConfig{}},
		{"missing bundle file", identity.SPIFFEConfig{CABundleFile: filepath.Join(dir, "nope.pem")}},
		{"empty bundle", identity.SPIFFEConfig{CABundleFile: file("empty.pem", nil)}},
		{"not PEM", identity.SPIFFEConfig{CABundleFile: file("text.pem", []byte("hello"))}},
		{"trailing garbage", identity.SPIFFEConfig{CABundleFile: file("trail.pem", append(pemOf(ca.cert), "garbage"...))}},
		{"private key block", identity.SPIFFEConfig{CABundleFile: file("key.pem", append(pemOf(ca.cert), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})...))}},
		{"bad certificate", identity.SPIFFEConfig{CABundleFile: file("bad.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")}))}},
		{"uppercase trust domain", identity.SPIFFEConfig{CABundleFile: good, TrustDomain: "Example.org"}},
		{"trust domain with scheme", identity.SPIFFEConfig{CABundleFile: good, TrustDomain: "spiffe://example.org"}},
		{"trust domain with port", identity.SPIFFEConfig{CABundleFile: good, TrustDomain: "example.org:443"}},
	}
	for _, tt := range tests {
		v, err := identity.NewSPIFFEVerifier(tt.cfg)
		if v != nil || err == nil || errors.Is(err, identity.ErrUnauthenticated) {
			t.Errorf("NewSPIFFEVerifier(%s) = %v, %v, want nil, a configuration error", tt.name, v, err)
		}
	}
}

func TestSPIFFEBundleRotation(t *testing.T) {
	caOld, caNew := newCA(t, "old root"), newCA(t, "new root")
	clock := newFakeClock()
	log, logs := bufferLogger()
	path := filepath.Join(t.TempDir(), "bundle.pem")
	replaceFile(t, path, pemOf(caOld.cert))
	v, err := identity.NewSPIFFEVerifier(identity.SPIFFEConfig{CABundleFile: path, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	identity.SetSPIFFEReloadClock(v, clock.Now)
	oldCert, newCert := []*x509.Certificate{caOld.client(t, workloadID)}, []*x509.Certificate{caNew.client(t, workloadID)}

	replaceFile(t, path, pemOf(caNew.cert))
	steps := []struct {
		name    string
		advance time.Duration
		certs   []*x509.Certificate
		wantErr error
	}{
		{"old CA, bundle replaced, same second", 0, oldCert, nil},
		{"new CA, bundle replaced, same second", 0, newCert, identity.ErrUnauthenticated},
		{"new CA, a second later", time.Second, newCert, nil},
		{"old CA, a second later", 0, oldCert, identity.ErrUnauthenticated},
	}
	for _, tt := range steps {
		clock.Advance(tt.advance)
		_, err := v.VerifyPeer(tt.certs)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("VerifyPeer(%s) = %v, want %v", tt.name, err, tt.wantErr)
		}
	}

	replaceFile(t, path, []byte("-----BEGIN CERTIFICATE-----\nbroken\n"))
	clock.Advance(time.Second)
	if _, err := v.VerifyPeer(newCert); err != nil {
		t.Errorf("VerifyPeer(new CA, broken bundle, automatic reload) = %v, want nil", err)
	}
	if got := strings.Count(logs.String(), "reload failed"); got != 1 {
		t.Errorf("log lines with \"reload failed\" = %d, want 1; log:\n%s", got, logs)
	}
	if err := v.Reload(); err == nil || errors.Is(err, identity.ErrUnauthenticated) {
		t.Errorf("Reload(broken bundle) = %v, want a configuration error", err)
	}
	if _, err := v.VerifyPeer(newCert); err != nil {
		t.Errorf("VerifyPeer(new CA, broken bundle, after Reload) = %v, want nil", err)
	}

	replaceFile(t, path, pemOf(caOld.cert, caNew.cert))
	if err := v.Reload(); err != nil {
		t.Errorf("Reload(both CAs) = %v, want nil", err)
	}
	both := []struct {
		name  string
		certs []*x509.Certificate
	}{
		{"old CA", oldCert},
		{"new CA", newCert},
	}
	for _, tt := range both {
		if _, err := v.VerifyPeer(tt.certs); err != nil {
			t.Errorf("VerifyPeer(%s, bundle of both) = %v, want nil", tt.name, err)
		}
	}
}

// serverFiles writes a server certificate for 127.0.0.1 issued by ca and
// its key, and returns their paths.
func serverFiles(t *testing.T, dir string, ca *testCA) (certFile, keyFile string) {
	t.Helper()
	k := newKey(t)
	c := create(t, &x509.Certificate{
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}, &k.PublicKey, ca, nil)
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	replaceFile(t, certFile, pemOf(c))
	replaceFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	return certFile, keyFile
}

// clientCert returns a TLS client certificate with workloadID from ca.
func clientCert(t *testing.T, ca *testCA) tls.Certificate {
	t.Helper()
	c, k := ca.issue(t, leafTemplate(t, []string{workloadID}, keepCert))
	return tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: k, Leaf: c}
}

// handshake runs a TLS handshake over loopback TCP between a server with
// cfg and a client trusting serverCA and presenting cert whatever CAs the
// server asks for (an empty tls.Certificate sends none). It returns the
// server's connection state, the serial of the server certificate the
// client saw (0 if none) and the server's handshake error.
func handshake(t *testing.T, cfg *tls.Config, serverCA *testCA, cert tls.Certificate) (tls.ConnectionState, int64, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	roots := x509.NewCertPool()
	roots.AddCert(serverCA.cert)
	seen := make(chan int64, 1)
	go func() {
		var serverSerial int64
		defer func() { seen <- serverSerial }()
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
			RootCAs:              roots,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil },
			MinVersion:           tls.VersionTLS12,
		})
		if err != nil {
			return
		}
		defer c.Close()
		serverSerial = c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
		_, _ = c.Read(make([]byte, 1)) // reads the server's alert or close
	}()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	s := tls.Server(conn, cfg)
	herr := s.Handshake()
	state := s.ConnectionState()
	s.Close()
	return state, <-seen, herr
}

func TestSPIFFETLSHandshake(t *testing.T) {
	serverCA, clientCA, otherCA := newCA(t, "server root"), newCA(t, "client root"), newCA(t, "other root")
	clock := newFakeClock()
	dir := t.TempDir()
	v, bundle := newSPIFFEVerifier(t, clock, "example.org", clientCA)
	certFile, keyFile := serverFiles(t, dir, serverCA)
	cfg, err := v.TLSConfig(certFile, keyFile)
	if err != nil {
		t.Fatalf("TLSConfig = %v, want nil", err)
	}
	if cfg.ClientAuth != tls.VerifyClientCertIfGiven {
		t.Errorf("TLSConfig().ClientAuth = %v, want VerifyClientCertIfGiven", cfg.ClientAuth)
	}

	good, stranger := clientCert(t, clientCA), clientCert(t, otherCA)
	accepted := []struct {
		name string
		cert tls.Certificate
		want identity.Identity
	}{
		{"client CA", good, workloadID},
	}
	for _, tt := range accepted {
		state, _, herr := handshake(t, cfg, serverCA, tt.cert)
		got, err := v.VerifyConnectionState(state)
		if herr != nil || got != tt.want || err != nil {
			t.Errorf("handshake(%s) = %v; VerifyConnectionState = %q, %v, want nil; %q, nil", tt.name, herr, got, err, tt.want)
		}
	}
	noCert, _, herr := handshake(t, cfg, serverCA, tls.Certificate{})
	if got, err := v.VerifyConnectionState(noCert); herr != nil || got != "" || !errors.Is(err, identity.ErrUnauthenticated) {
		t.Errorf("handshake(no client cert) = %v; VerifyConnectionState = %q, %v, want nil; \"\", ErrUnauthenticated", herr, got, err)
	}
	if _, _, herr := handshake(t, cfg, serverCA, stranger); herr == nil {
		t.Errorf("handshake(other CA) = nil, want a bad certificate error")
	}

	// Rotate the client CA: after a second the other CA is trusted and the
	// first one is not, without a new tls.Config.
	replaceFile(t, bundle, pemOf(otherCA.cert))
	clock.Advance(time.Second)
	rotated := []struct {
		name    string
		cert    tls.Certificate
		wantErr bool
	}{
		{"new CA after rotation", stranger, false},
		{"old CA after rotation", good, true},
	}
	for _, tt := range rotated {
		state, _, herr := handshake(t, cfg, serverCA, tt.cert)
		if (herr != nil) != tt.wantErr {
			t.Errorf("handshake(%s) = %v, want error %v", tt.name, herr, tt.wantErr)
		}
		_, err := v.VerifyConnectionState(state)
		if (err != nil) != tt.wantErr {
			t.Errorf("VerifyConnectionState(%s) = %v, want error %v", tt.name, err, tt.wantErr)
		}
	}
}

func TestSPIFFETLSServerCertRotation(t *testing.T) {
	serverCA, clientCA := newCA(t, "server root"), newCA(t, "client root")
	clock := newFakeClock()
	dir := t.TempDir()
	v, _ := newSPIFFEVerifier(t, clock, "", clientCA)
	certFile, keyFile := serverFiles(t, dir, serverCA)
	cfg, err := v.TLSConfig(certFile, keyFile)
	if err != nil {
		t.Fatalf("TLSConfig = %v, want nil", err)
	}
	client := clientCert(t, clientCA)
	_, first, _ := handshake(t, cfg, serverCA, client)

	serverFiles(t, dir, serverCA)
	_, sameSecond, _ := handshake(t, cfg, serverCA, client)
	clock.Advance(time.Second)
	_, later, _ := handshake(t, cfg, serverCA, client)

	if err := os.WriteFile(keyFile, []byte("broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	_, broken, herr := handshake(t, cfg, serverCA, client)

	checks := []struct {
		name string
		got  bool
	}{
		{"first serial != 0", first != 0},
		{"same second serial == first", sameSecond == first},
		{"later serial != first", later != first},
		{"broken-key serial == later", broken == later},
		{"broken-key handshake ok", herr == nil},
	}
	for _, c := range checks {
		if !c.got {
			t.Errorf("server cert rotation: %s = false, want true (serials %d, %d, %d, %d; handshake %v)", c.name, first, sameSecond, later, broken, herr)
		}
	}
}
