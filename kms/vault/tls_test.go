package vault_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/internal/devvaulttest"
	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/kms/vault"
)

// testPKI writes a fresh CA and a server certificate for 127.0.0.1 signed
// by it, and returns the paths of the CA, certificate and key PEM files.
func testPKI(t *testing.T) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "devvault test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", leafDER), write("key.pem", "EC PRIVATE KEY", keyDER)
}

func TestTLSWithCAFile(t *testing.T) {
	caFile, certFile, keyFile := testPKI(t)
	dv := devvaulttest.Start(t, "-tls-cert", certFile, "-tls-key", keyFile)
	if !strings.HasPrefix(dv.Addr, "https://") {
		t.Fatalf("devvault address %q, want https", dv.Addr)
	}
	cfg := rootConfig(dv, uniquePrefix())
	cfg.CAFile = caFile
	p := mustOpen(t, cfg)
	if _, err := p.Keyring(context.Background(), "email"); err != nil {
		t.Fatalf("Keyring over TLS error = %v", err)
	}

	t.Setenv("VAULT_SKIP_VERIFY", "true")
	t.Setenv("VAULT_CACERT", "")
	cfg.CAFile = ""
	_, err := vault.Open(context.Background(), cfg, nil)
	if err == nil {
		t.Fatal("Open without the CA succeeded (VAULT_SKIP_VERIFY must not disable verification)")
	}
	if errors.Is(err, kms.ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Open without the CA error = %v, want a certificate error that is not ErrUnavailable", err)
	}
	t.Logf("Open without the CA: %v", err)
}
