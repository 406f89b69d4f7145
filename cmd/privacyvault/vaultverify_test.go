package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/internal/devvaulttest"
)

const dpoToken = "dev-dpo-token-00000005"

// stopSidecar stops a sidecar the way an orchestrator does (SIGTERM), so
// it closes its audit log with a signed checkpoint.
func stopSidecar(t *testing.T, s *sidecar) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("sidecar exit: %v\n%s", err, s.logs)
	}
}

func cli(t *testing.T, token string, args ...string) (int, string) {
	t.Helper()
	t.Setenv(envToken, token)
	var out bytes.Buffer
	code := run(context.Background(), args, nil, &out, &out)
	return code, out.String()
}

// TestOfflineVerifyVaultSigned: with checkpoints and receipts signed by a
// Vault Transit ed25519 key, the exported keys verify a copy of the log
// and a receipt offline, even with Vault down; a live verify during the
// outage says "could not verify" (exit 3), not TAMPERED; an altered
// receipt is INVALID (exit 1).
func TestOfflineVerifyVaultSigned(t *testing.T) {
	dv := devvaulttest.Start(t)
	cfg := vaultConfig(t, dv.Addr, "offline-verify", "1h", "1h")
	t.Setenv("VAULT_TOKEN", dv.Token)
	dataDir := t.TempDir()
	s := startSidecar(t, "--dev", "--config", cfg, "--data-dir", dataDir)
	if _, err := dial(t, s.addr).TokenizeBatch(context.Background(), []client.TokenizeItem{{Class: "email", Value: []byte("kim@example.com"), SubjectID: "kim"}}); err != nil {
		t.Fatal(err)
	}
	stopSidecar(t, s) // closes the log with a Transit-signed checkpoint
	s = startSidecar(t, "--dev", "--config", cfg, "--data-dir", dataDir)
	t.Setenv(envAddr, s.addr)
	dir := t.TempDir()
	receipt := filepath.Join(dir, "receipt.json")
	if code, out := cli(t, dpoToken, "subject", "erase", "--receipt", receipt, "kim"); code != 0 {
		t.Fatalf("subject erase = %d: %s", code, out)
	}
	keys := filepath.Join(dir, "keys.pem")
	if code, out := cli(t, opsToken, "audit", "export-keys", "--out", keys); code != 0 || !strings.Contains(out, "vault:transit/privacyvault-audit:v1") {
		t.Fatalf("audit export-keys = %d: %s; want the Transit key v1", code, out)
	}
	if code, out := cli(t, opsToken, "audit", "verify"); code != 0 {
		t.Fatalf("audit verify (live, Vault up) = %d: %s", code, out)
	}
	if b, err := os.ReadFile(filepath.Join(dataDir, "audit-verification-keys.pem")); err != nil || !bytes.Contains(b, []byte("Key-Id: vault:transit/privacyvault-audit:v1")) {
		t.Errorf("audit-verification-keys.pem written at start = %q, %v; want the Transit key", b, err)
	}

	dv.Pause(t)
	if code, out := cli(t, opsToken, "audit", "verify"); code != exitUnverified || !strings.Contains(out, "COULD NOT BE VERIFIED") {
		t.Errorf("audit verify (live, Vault down) = %d: %s; want %d, could not verify", code, out, exitUnverified)
	}
	logCopy := filepath.Join(dir, "audit.log")
	b, err := os.ReadFile(filepath.Join(dataDir, "audit", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"key_id":"vault:transit/privacyvault-audit:v1"`)) {
		t.Fatalf("log has no Transit-signed checkpoint; the test would prove nothing:\n%s", b)
	}
	if err := os.WriteFile(logCopy, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := cli(t, "", "audit", "verify", "--file", logCopy, "--public-key", keys); code != 0 || !strings.Contains(out, "audit log OK") {
		t.Errorf("audit verify --file (Vault down) = %d: %s; want OK", code, out)
	}
	if code, out := cli(t, "", "subject", "verify-receipt", "--receipt", receipt, "--public-key", keys); code != 0 || !strings.Contains(out, "receipt OK") {
		t.Errorf("subject verify-receipt (Vault down) = %d: %s; want OK", code, out)
	}
	var r map[string]any
	rb, _ := os.ReadFile(receipt)
	if err := json.Unmarshal(rb, &r); err != nil {
		t.Fatal(err)
	}
	r["records"] = 7
	rb, _ = json.Marshal(r)
	os.WriteFile(receipt, rb, 0o600)
	if code, out := cli(t, "", "subject", "verify-receipt", "--receipt", receipt, "--public-key", keys); code != exitTampered || !strings.Contains(out, "INVALID") {
		t.Errorf("subject verify-receipt (altered) = %d: %s; want %d INVALID", code, out, exitTampered)
	}
	dv.Resume(t)
}

// TestVaultKeepsAuditHead: with keys in Vault the chain head is kept in
// Vault KV too, so wiping the whole data directory (log and store) does
// not let a sidecar start a fresh chain unnoticed; the operator flag
// accepts it.
func TestVaultKeepsAuditHead(t *testing.T) {
	dv := devvaulttest.Start(t)
	cfg := vaultConfig(t, dv.Addr, "audit-head", "1h", "1h")
	t.Setenv("VAULT_TOKEN", dv.Token)
	dataDir := t.TempDir()
	s := startSidecar(t, "--dev", "--config", cfg, "--data-dir", dataDir)
	for range 3 {
		if _, err := dial(t, s.addr).Tokenize(context.Background(), "email", []byte("lee@example.com")); err != nil {
			t.Fatal(err)
		}
	}
	stopSidecar(t, s) // the closing checkpoint's head goes to Vault
	for _, d := range []string{"audit", "store"} {
		if err := os.RemoveAll(filepath.Join(dataDir, d)); err != nil {
			t.Fatal(err)
		}
	}
	var stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a start that is not refused would serve forever
	defer cancel()
	serve := exec.CommandContext(ctx, binary, "serve", "--dev", "--config", cfg, "--data-dir", dataDir, "--listen", freeAddr(t))
	serve.Stderr = &stderr
	if err := serve.Run(); err == nil || !strings.Contains(stderr.String(), "recorded in the vault") || !strings.Contains(stderr.String(), "truncated") {
		t.Fatalf("serve on a wiped data directory = %v, want refused naming the head recorded in Vault:\n%s", err, stderr.String())
	}
	startSidecar(t, "--dev", "--config", cfg, "--data-dir", dataDir, "--accept-audit-log-reset")
	b, err := os.ReadFile(filepath.Join(dataDir, "audit", "audit.log"))
	if err != nil || !bytes.Contains(b, []byte(`"op":"audit.reset"`)) {
		t.Errorf("after --accept-audit-log-reset the log has no audit.reset event: %v\n%s", err, b)
	}
}
