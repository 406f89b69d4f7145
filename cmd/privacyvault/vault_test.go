package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/internal/devvaulttest"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

const opsToken = "dev-ops-token-00000004"

// vaultConfig writes the sample configuration switched to the Vault
// provider at addr, with the given refresh interval and grace period.
func vaultConfig(t *testing.T, addr, prefix, refresh, grace string) string {
	t.Helper()
	keys := fmt.Sprintf(`keys:
  provider: vault
  refresh_interval: %s
  grace_period: %s
  vault:
    address: %s
    create_kek: true
    kv_prefix: %s
    timeout: 1s
`, refresh, grace, addr, prefix)
	cfg := string(examples.Config)
	i := strings.Index(cfg, "keys:\n")
	j := strings.Index(cfg, "# Data classes:")
	if i < 0 || j < 0 {
		t.Fatal("sample config has no keys section to replace")
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg[:i]+keys+"\n"+cfg[j:]), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startVaultSidecar runs `privacyvault serve` against devvault.
func startVaultSidecar(t *testing.T, dv *devvaulttest.DevVault, cfg string) *sidecar {
	t.Helper()
	t.Setenv("VAULT_TOKEN", dv.Token)
	return startSidecar(t, "--dev", "--config", cfg, "--data-dir", t.TempDir())
}

func adminClient(t *testing.T, addr string) *client.Client {
	t.Helper()
	c, err := client.Dial(addr, client.WithInsecure(), client.WithBearerToken(opsToken))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func currentVersion(t *testing.T, c *client.Client, class string) (current uint32, records map[uint32]uint64) {
	t.Helper()
	st, err := c.KeyStatus(context.Background())
	if err != nil {
		t.Fatalf("KeyStatus() error = %v", err)
	}
	for _, cs := range st {
		if cs.GetClass() == class {
			records = map[uint32]uint64{}
			for _, v := range cs.GetVersions() {
				records[v.GetVersion()] = v.GetRecords()
			}
			return cs.GetCurrentVersion(), records
		}
	}
	t.Fatalf("KeyStatus() has no class %s", class)
	return 0, nil
}

// TestTwoSidecarsShareVaultKeys: a rotation made at one sidecar is used by
// a second sidecar process on the same Vault within its refresh interval.
func TestTwoSidecarsShareVaultKeys(t *testing.T) {
	dv := devvaulttest.Start(t)
	cfg := vaultConfig(t, dv.Addr, "two-sidecars", "1s", "1h")
	a := startVaultSidecar(t, dv, cfg)
	b := startVaultSidecar(t, dv, cfg)
	appB := dial(t, b.addr)
	before, err := appB.Tokenize(context.Background(), "email", []byte("first@example.com"))
	if err != nil {
		t.Fatalf("sidecar B Tokenize() error = %v", err)
	}
	st, err := adminClient(t, a.addr).RotateKey(context.Background(), "email")
	if err != nil || st.GetCurrentVersion() != 2 {
		t.Fatalf("sidecar A RotateKey(email) = %v, %v; want current 2", st, err)
	}
	adminB := adminClient(t, b.addr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if v, _ := currentVersion(t, adminB, "email"); v == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sidecar B still on version 1 10s after A rotated (refresh interval 1s)\n%s", b.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := appB.Tokenize(context.Background(), "email", []byte("second@example.com")); err != nil {
		t.Fatalf("sidecar B Tokenize() after rotation error = %v", err)
	}
	if _, recs := currentVersion(t, adminB, "email"); recs[1] != 1 || recs[2] != 1 {
		t.Errorf("sidecar B records per version = %v, want one at v1 and one at v2 (new token sealed under A's rotation)", recs)
	}
	got, err := appB.Detokenize(context.Background(), "payment", "email", before)
	if err != nil || string(got.Value) != "first@example.com" {
		t.Errorf("sidecar B Detokenize(token from before rotation) = %q, %v", got.Value, err)
	}
}

// TestVaultOutage pauses Vault mid-run: the data plane keeps serving from
// cached keys, admin calls are Unavailable, and all resumes when Vault
// is back — then, past the grace period, the data plane stops too.
func TestVaultOutage(t *testing.T) {
	dv := devvaulttest.Start(t)
	cfg := vaultConfig(t, dv.Addr, "outage", "500ms", "4s")
	s := startVaultSidecar(t, dv, cfg)
	app, admin := dial(t, s.addr), adminClient(t, s.addr)
	tok, err := app.Tokenize(context.Background(), "email", []byte("outage@example.com"))
	if err != nil {
		t.Fatal(err)
	}

	dv.Pause(t)
	for i := range 5 {
		if _, err := app.Tokenize(context.Background(), "email", []byte(fmt.Sprintf("during%d@example.com", i))); err != nil {
			t.Errorf("Tokenize during outage (within grace) error = %v", err)
		}
		if got, err := app.Detokenize(context.Background(), "payment", "email", tok); err != nil || string(got.Value) != "outage@example.com" {
			t.Errorf("Detokenize during outage (within grace) = %q, %v", got.Value, err)
		}
	}
	_, err = admin.RotateKey(context.Background(), "email")
	if status.Code(err) != codes.Unavailable || !strings.Contains(status.Convert(err).Message(), "unavailable") {
		t.Errorf("RotateKey during outage = %v, want Unavailable with a clear message", err)
	}
	if _, err := admin.RewrapKeys(context.Background()); status.Code(err) != codes.Unavailable {
		t.Errorf("RewrapKeys during outage = %v, want Unavailable", err)
	}

	dv.Resume(t)
	// The rotation refused during the outage may still reach Vault after
	// it (its request waited in the socket buffer): current is 2 or 3.
	if st, err := admin.RotateKey(context.Background(), "email"); err != nil || st.GetCurrentVersion() < 2 {
		t.Errorf("RotateKey after Vault is back = %v, %v; want a new current version", st, err)
	}
	if got, err := app.Detokenize(context.Background(), "payment", "email", tok); err != nil || string(got.Value) != "outage@example.com" {
		t.Errorf("Detokenize after Vault is back = %q, %v", got.Value, err)
	}

	// Past the grace period the data plane refuses rather than serving
	// keys it can no longer check.
	dv.Pause(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := app.Detokenize(context.Background(), "payment", "email", tok)
		if status.Code(err) == codes.Unavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Detokenize 15s into an outage with a 4s grace period = %v, want Unavailable", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	dv.Resume(t)
	deadline = time.Now().Add(15 * time.Second)
	for {
		got, err := app.Detokenize(context.Background(), "payment", "email", tok)
		if err == nil && string(got.Value) == "outage@example.com" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Detokenize after Vault came back = %v; want recovery without a restart\n%s", err, s.logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestVaultUnreachableAtStart: the sidecar fails fast with a clear error.
func TestVaultUnreachableAtStart(t *testing.T) {
	cfg := vaultConfig(t, "http://127.0.0.1:1", "unreachable", "30s", "1h")
	cmd := exec.Command(binary, "serve", "--dev", "--config", cfg, "--data-dir", t.TempDir(), "--listen", freeAddr(t))
	cmd.Env = append(os.Environ(), "VAULT_TOKEN=irrelevant-token")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	if err == nil {
		t.Fatal("serve with Vault unreachable exited 0, want failure")
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("serve with Vault unreachable took %v to fail, want fast", took)
	}
	if !strings.Contains(stderr.String(), "127.0.0.1:1") || !strings.Contains(stderr.String(), "unavailable") {
		t.Errorf("serve with Vault unreachable said %q; want the Vault address and 'unavailable'", stderr.String())
	}
	if strings.Contains(stderr.String(), "irrelevant-token") {
		t.Errorf("serve error output contains the Vault token")
	}
}

// TestVaultRotationRunbook: a token issued before rotate, before a Transit
// KEK rotation plus rewrap, and before reencrypt still detokenizes; retire
// refuses while records need the old version.
func TestVaultRotationRunbook(t *testing.T) {
	dv := devvaulttest.Start(t)
	cfg := vaultConfig(t, dv.Addr, "runbook", "30s", "1h")
	s := startVaultSidecar(t, dv, cfg)
	app, admin := dial(t, s.addr), adminClient(t, s.addr)
	check := func(stage string, toks, want []string) {
		t.Helper()
		for i, tok := range toks {
			got, err := app.Detokenize(context.Background(), "payment", "email", tok)
			if err != nil || string(got.Value) != want[i] {
				t.Errorf("%s: Detokenize(token %d) = %q, %v; want %q", stage, i, got.Value, err, want[i])
			}
		}
	}
	var toks, vals []string
	add := func(v string) {
		tok, err := app.Tokenize(context.Background(), "email", []byte(v))
		if err != nil {
			t.Fatal(err)
		}
		toks, vals = append(toks, tok), append(vals, v)
	}
	add("before-rotate@example.com")
	if _, err := admin.RotateKey(context.Background(), "email"); err != nil {
		t.Fatal(err)
	}
	check("after rotate", toks, vals)
	add("before-rewrap@example.com")
	if _, err := dv.Client(t).Logical().Write("transit/keys/privacyvault-kek/rotate", nil); err != nil {
		t.Fatalf("rotate Transit KEK: %v", err)
	}
	if n, err := admin.RewrapKeys(context.Background()); err != nil || n < 2 {
		t.Fatalf("RewrapKeys() = %d, %v", n, err)
	}
	check("after KEK rotation and rewrap", toks, vals)
	if _, err := admin.RetireKeyVersions(context.Background(), "email", 2); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("RetireKeyVersions before reencrypt = %v, want FailedPrecondition", err)
	}
	add("before-reencrypt@example.com")
	if _, err := admin.StartReencrypt(context.Background(), "email"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		j, err := admin.Reencrypt(context.Background(), "email")
		if err == nil && j.GetState() == pb.ReencryptJob_STATE_DONE {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reencrypt not done: %v, %v", j, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	check("after reencrypt", toks, vals)
	if st, err := admin.RetireKeyVersions(context.Background(), "email", 2); err != nil || st.GetMinDecryptionVersion() != 2 {
		t.Errorf("RetireKeyVersions after reencrypt = %v, %v", st, err)
	}
	check("after retire", toks, vals)
	if r, err := admin.VerifyAudit(context.Background()); err != nil || !r.GetOk() {
		t.Errorf("VerifyAudit() with Vault-signed checkpoints = %v, %v", r, err)
	}
}
