package identity

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

const maxSPIFFEIDLen = 2048

// SPIFFEConfig configures a SPIFFEVerifier.
type SPIFFEConfig struct {
	// CABundleFile is the path of a PEM file of the CA certificates client
	// certificates must chain to. Required.
	CABundleFile string
	// TrustDomain, if set, is the only trust domain accepted: IDs must be
	// spiffe://<TrustDomain>/<path>.
	TrustDomain string
	// Logger receives failures of automatic CA bundle and server
	// certificate reloads. Nil means slog.Default().
	Logger *slog.Logger
}

// SPIFFEVerifier authenticates mTLS clients by their X.509 SVID: a client
// certificate that chains to the CA bundle, is valid for client auth, is
// not a CA, and has exactly one URI SAN, a SPIFFE ID with a workload path.
// The Identity is that SPIFFE ID.
//
// The CA bundle is reloaded when its file changes: VerifyPeer and TLS
// handshakes look at the file's stat at most once per second and reload it
// if it differs; Reload reloads it at once (e.g. on SIGHUP). A new bundle
// that does not load keeps the previous one in use.
//
// A SPIFFEVerifier is safe for concurrent use.
type SPIFFEVerifier struct {
	cfg    SPIFFEConfig
	bundle *watched[caBundle]
	clock  func() time.Time // paces server certificate reloads; tests replace it
}

type caBundle struct {
	pool *x509.CertPool
}

// NewSPIFFEVerifier checks cfg, loads the CA bundle and returns a verifier.
// Errors are configuration errors; they never wrap ErrUnauthenticated.
func NewSPIFFEVerifier(cfg SPIFFEConfig) (*SPIFFEVerifier, error) {
	if cfg.CABundleFile == "" {
		return nil, errors.New("identity: spiffe: CABundleFile is required")
	}
	if cfg.TrustDomain != "" {
		if reason := checkTrustDomain(cfg.TrustDomain); reason != "" {
			return nil, fmt.Errorf("identity: spiffe: TrustDomain %q: %s", cfg.TrustDomain, reason)
		}
	}
	path := cfg.CABundleFile
	w, err := newWatched("CA bundle", []string{path}, cfg.Logger, nil, func() (*caBundle, error) { return loadCABundle(path) })
	if err != nil {
		return nil, err
	}
	return &SPIFFEVerifier{cfg: cfg, bundle: w, clock: time.Now}, nil
}

// Reload reads the CA bundle file now. If it does not load, the previous
// bundle stays in use and the error (a configuration error) is returned.
func (v *SPIFFEVerifier) Reload() error { return v.bundle.Reload() }

// VerifyConnectionState is VerifyPeer(cs.PeerCertificates).
func (v *SPIFFEVerifier) VerifyConnectionState(cs tls.ConnectionState) (Identity, error) {
	return v.VerifyPeer(cs.PeerCertificates)
}

// VerifyPeer returns the SPIFFE ID of the client certificate certs[0],
// with certs[1:] as untrusted intermediates (the order of
// tls.ConnectionState.PeerCertificates). The chain is verified against the
// current CA bundle, not taken from the handshake, so a CA removed from the
// bundle stops being accepted on resumed sessions too. Every failure wraps
// ErrUnauthenticated.
func (v *SPIFFEVerifier) VerifyPeer(certs []*x509.Certificate) (Identity, error) {
	if len(certs) == 0 || certs[0] == nil {
		return "", unauthenticated("spiffe: no client certificate")
	}
	v.bundle.maybeReload()
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{
		Roots:         v.bundle.get().pool,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if _, err := leaf.Verify(opts); err != nil {
		return "", fmt.Errorf("%w: spiffe: %w", ErrUnauthenticated, err)
	}
	if leaf.IsCA {
		return "", unauthenticated("spiffe: client certificate is a CA")
	}
	if len(leaf.URIs) != 1 {
		return "", unauthenticated(fmt.Sprintf("spiffe: client certificate has %d URI SANs, want exactly 1", len(leaf.URIs)))
	}
	u := leaf.URIs[0]
	if reason := checkSPIFFEID(u); reason != "" {
		return "", unauthenticated("spiffe: URI SAN is not a SPIFFE ID: " + reason)
	}
	if v.cfg.TrustDomain != "" && u.Host != v.cfg.TrustDomain {
		return "", unauthenticated(fmt.Sprintf("spiffe: trust domain %q is not %q", u.Host, v.cfg.TrustDomain))
	}
	return Identity(u.String()), nil
}

// TLSConfig returns a server TLS configuration that asks for a client
// certificate (tls.VerifyClientCertIfGiven) and verifies it against the
// current CA bundle: each handshake picks up a reloaded bundle. The server
// certificate and key are reloaded the same way when either file changes.
// A connection without a client certificate is accepted; VerifyPeer then
// returns ErrUnauthenticated, so another credential (a JWT) may be used.
func (v *SPIFFEVerifier) TLSConfig(serverCertFile, serverKeyFile string) (*tls.Config, error) {
	load := func() (*tls.Certificate, error) {
		c, err := tls.LoadX509KeyPair(serverCertFile, serverKeyFile)
		if err != nil {
			return nil, fmt.Errorf("identity: spiffe: server certificate: %w", err)
		}
		return &c, nil
	}
	cert, err := newWatched("server certificate", []string{serverCertFile, serverKeyFile}, v.cfg.Logger, v.clock, load)
	if err != nil {
		return nil, err
	}
	base := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ClientAuth: tls.VerifyClientCertIfGiven,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			cert.maybeReload()
			return cert.get(), nil
		},
	}
	type perBundle struct {
		b   *caBundle
		cfg *tls.Config
	}
	var cache atomic.Pointer[perBundle]
	outer := base.Clone()
	outer.ClientCAs = x509.NewCertPool() // never used: GetConfigForClient always answers
	outer.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		v.bundle.maybeReload()
		b := v.bundle.get()
		if c := cache.Load(); c != nil && c.b == b {
			return c.cfg, nil
		}
		cfg := base.Clone()
		cfg.ClientCAs = b.pool
		cache.Store(&perBundle{b: b, cfg: cfg})
		return cfg, nil
	}
	return outer, nil
}

// loadCABundle reads a PEM file of CERTIFICATE blocks. Any other block, an
// unparsable certificate or an empty bundle is an error.
func loadCABundle(path string) (*caBundle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity: spiffe: %w", err)
	}
	pool := x509.NewCertPool()
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("identity: spiffe: CA bundle %s: unexpected PEM block %q", path, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("identity: spiffe: CA bundle %s: certificate %d: %w", path, n, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 || strings.TrimSpace(string(data)) != "" {
		return nil, fmt.Errorf("identity: spiffe: CA bundle %s: no certificates, or trailing data that is not PEM", path)
	}
	return &caBundle{pool: pool}, nil
}

// checkSPIFFEID returns why u is not a SPIFFE ID of a workload, or "" if
// it is one: scheme spiffe, a valid trust domain, no user, port, query or
// fragment, and a non-empty path of non-empty segments other than "." and
// "..", made of letters, digits, ".", "-" and "_".
func checkSPIFFEID(u *url.URL) string {
	switch {
	case u.Scheme != "spiffe":
		return "scheme is not spiffe"
	case u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawFragment != "":
		return "has an opaque part, user, query or fragment"
	case len(u.String()) > maxSPIFFEIDLen:
		return "too long"
	}
	if reason := checkTrustDomain(u.Host); reason != "" {
		return "trust domain " + reason
	}
	if !strings.HasPrefix(u.Path, "/") || u.RawPath != "" {
		return "no workload path, or a percent-encoded one"
	}
	for _, seg := range strings.Split(u.Path[1:], "/") {
		if seg == "" || seg == "." || seg == ".." || strings.TrimFunc(seg, isPathChar) != "" {
			return "path has an empty, dot or invalid segment"
		}
	}
	return ""
}

// checkTrustDomain returns why td is not a trust domain name, or "": it
// must be 1 to 255 characters of lowercase letters, digits, ".", "-" and
// "_" (so no port and no uppercase).
func checkTrustDomain(td string) string {
	if td == "" || len(td) > 255 {
		return "must be 1 to 255 characters"
	}
	if strings.TrimFunc(td, isTrustDomainChar) != "" {
		return "may hold only a-z, 0-9, '.', '-' and '_'"
	}
	return ""
}

func isTrustDomainChar(r rune) bool {
	return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '.' || r == '-' || r == '_'
}

func isPathChar(r rune) bool {
	return isTrustDomainChar(r) || 'A' <= r && r <= 'Z'
}
