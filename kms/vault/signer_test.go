package vault_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/audit/audittest"
	"github.com/privacyvault/privacyvault/internal/devvaulttest"
	"github.com/privacyvault/privacyvault/kms/vault"
)

// TestTransitAuditSigner signs audit checkpoints with a Transit ed25519
// key: a log verifies through Vault, a flipped signature does not.
func TestTransitAuditSigner(t *testing.T) {
	dv := devvaulttest.Start(t)
	p, err := vault.Open(context.Background(), rootConfig(dv, "signer"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	signer, err := p.AuditSigner(context.Background(), "privacyvault-audit", true)
	if err != nil {
		t.Fatalf("AuditSigner() error = %v", err)
	}
	sig, keyID, err := signer.Sign(context.Background(), []byte("checkpoint"))
	if err != nil || !strings.HasPrefix(keyID, "vault:transit/privacyvault-audit:v") {
		t.Fatalf("Sign() = %q, %v; want a vault:transit key id", keyID, err)
	}
	if err := signer.Verify(keyID, []byte("checkpoint"), sig); err != nil {
		t.Errorf("Verify(good) error = %v", err)
	}
	bad := bytes.Clone(sig)
	bad[0] ^= 1
	if err := signer.Verify(keyID, []byte("checkpoint"), bad); !errors.Is(err, audit.ErrBadSignature) {
		t.Errorf("Verify(flipped) error = %v, want ErrBadSignature", err)
	}

	dir := t.TempDir()
	l, err := audit.Open(dir, audit.Options{Signer: signer, CheckpointEvery: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := l.Append(context.Background(), audit.Event{Caller: "app", Op: "tokenize", Count: 1, Decision: "allow"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := audit.Verify(f, signer)
	if err != nil || sum.Events != 5 || sum.LastCheckpointSeq != 5 {
		t.Errorf("Verify(log signed by Transit) = %+v, %v; want 5 events checkpointed through seq 5", sum, err)
	}
}

func TestTransitSignerConformance(t *testing.T) {
	dv := devvaulttest.Start(t)
	p := mustOpen(t, rootConfig(dv, uniquePrefix()))
	signer, err := p.CheckpointSigner(context.Background(), "privacyvault-audit", true)
	if err != nil {
		t.Fatalf("CheckpointSigner() error = %v", err)
	}
	audittest.RunSigner(t, signer)
}
