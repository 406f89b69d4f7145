package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/internal/devvaulttest"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// vaultSidecar starts an in-process sidecar whose keys are in devvault,
// with the given refresh interval and grace period.
func vaultSidecar(t *testing.T, dv *devvaulttest.DevVault, refresh, grace string, logs *syncBuffer) *servertest.Harness {
	t.Helper()
	t.Setenv("VAULT_TOKEN", dv.Token)
	cfg := string(examples.Config)
	i, j := strings.Index(cfg, "keys:\n"), strings.Index(cfg, "# Data classes:")
	if i < 0 || j < 0 {
		t.Fatal("sample config has no keys section to replace")
	}
	keys := fmt.Sprintf("keys:\n  provider: vault\n  refresh_interval: %s\n  grace_period: %s\n  vault:\n    address: %s\n    create_kek: true\n    kv_prefix: %s\n    timeout: 1s\n\n",
		refresh, grace, dv.Addr, strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
	o := servertest.Options{Config: []byte(cfg[:i] + keys + cfg[j:])}
	if logs != nil {
		o.Logs = logs
	}
	return servertest.Start(t, o)
}

// healthOf returns the health status of service ("" is the whole server).
func healthOf(t *testing.T, h *servertest.Harness, service string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	resp, err := healthpb.NewHealthClient(h.Client("").Conn()).Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatalf("Health.Check(%q) error = %v", service, err)
	}
	return resp.GetStatus()
}

// waitHealth polls until every health status is want, failing after a
// generous bound (the sidecar rechecks once a second).
func waitHealth(t *testing.T, h *servertest.Harness, want healthpb.HealthCheckResponse_ServingStatus, why string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, service := range []string{"", "privacyvault.v1.TokenService", "privacyvault.v1.AdminService", "privacyvault.v1.SubjectService"} {
		for got := healthOf(t, h, service); got != want; got = healthOf(t, h, service) {
			if time.Now().After(deadline) {
				t.Fatalf("health of %q %s = %v, want %v within 30s", service, why, got, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// failingAuditor fails every write while fail is set.
type failingAuditor struct {
	next core.Auditor
	fail *atomic.Bool
}

func (a failingAuditor) Record(ctx context.Context, e core.AuditEvent) error {
	if a.fail.Load() {
		return errors.New("injected audit write failure")
	}
	return a.next.Record(ctx, e)
}

// TestHealthFollowsAuditLog: while audit writes fail (every call is then
// refused), health reports NOT_SERVING; once they succeed again it
// reports SERVING, and the recovery is itself in the audit log.
func TestHealthFollowsAuditLog(t *testing.T) {
	var fail atomic.Bool
	h := servertest.Start(t, servertest.Options{Config: examples.Config, AuditHook: func(next core.Auditor) core.Auditor {
		return failingAuditor{next: next, fail: &fail}
	}})
	app := h.Client(checkout)
	tokenize(t, app, "email", "health@example.com")
	waitHealth(t, h, healthpb.HealthCheckResponse_SERVING, "at start")

	fail.Store(true)
	if _, err := app.Tokenize(context.Background(), "email", []byte("refused@example.com")); status.Code(err) != codes.Unavailable {
		t.Fatalf("Tokenize while audit writes fail = %v, want Unavailable", err)
	}
	waitHealth(t, h, healthpb.HealthCheckResponse_NOT_SERVING, "while the audit log cannot be written")

	fail.Store(false)
	waitHealth(t, h, healthpb.HealthCheckResponse_SERVING, "after audit writes recover")
	tokenize(t, app, "email", "after@example.com")
	h.Stop()
	n := 0
	for _, ev := range auditEvents(t, h.DataDir) {
		if ev.Op == "health.audit_writable" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("audit log has %d health.audit_writable events, want 1", n)
	}
}

// TestHealthFollowsKeyGrace: with Vault paused past the grace period
// (data calls refused), health reports NOT_SERVING; once Vault is back
// and keys refresh, SERVING.
func TestHealthFollowsKeyGrace(t *testing.T) {
	dv := devvaulttest.Start(t)
	h := vaultSidecar(t, dv, "300ms", "3s", nil)
	tokenize(t, h.Client(checkout), "email", "grace@example.com")
	waitHealth(t, h, healthpb.HealthCheckResponse_SERVING, "at start")

	dv.Pause(t)
	waitHealth(t, h, healthpb.HealthCheckResponse_NOT_SERVING, "with Vault paused past the 3s grace period")
	if _, err := h.Client(checkout).Tokenize(context.Background(), "email", []byte("stale@example.com")); status.Code(err) != codes.Unavailable {
		t.Errorf("Tokenize past the grace period = %v, want Unavailable", err)
	}

	dv.Resume(t)
	waitHealth(t, h, healthpb.HealthCheckResponse_SERVING, "after Vault is back")
	tokenize(t, h.Client(checkout), "email", "back@example.com")
}

// TestVaultOutageErrorsNameNoAddress: a call refused because Vault is
// unreachable tells the caller so without Vault's address; the server
// logs the address once, on the line for that call.
func TestVaultOutageErrorsNameNoAddress(t *testing.T) {
	dv := devvaulttest.Start(t)
	logs := &syncBuffer{}
	h := vaultSidecar(t, dv, "1h", "1h", logs)
	u, err := url.Parse(dv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	dv.Pause(t)
	_, err = h.Client(ops).RotateKey(context.Background(), "email")
	msg := status.Convert(err).Message()
	if status.Code(err) != codes.Unavailable || !strings.Contains(msg, "key provider unavailable") {
		t.Errorf("RotateKey during a Vault outage = %v, want Unavailable saying the key provider is unavailable", err)
	}
	for _, internal := range []string{u.Host, u.Port(), "127.0.0.1", "vault:", "transit", "privacyvault-kek"} {
		if strings.Contains(msg, internal) {
			t.Errorf("RotateKey error message %q contains %q", msg, internal)
		}
	}
	dv.Resume(t)
	h.Stop()
	lines := 0
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "RotateKey") && strings.Contains(l, u.Host) {
			lines++
		}
	}
	if lines != 1 {
		t.Errorf("server log has %d lines naming RotateKey and the Vault address, want 1\n%s", lines, logs)
	}
}

// TestHealthNotServingWhenAuditLogDeleted: a real audit failure — the log
// file deleted under the running sidecar — refuses the next call and turns
// health to NOT_SERVING (the log stays closed until an operator restarts
// the sidecar).
func TestHealthNotServingWhenAuditLogDeleted(t *testing.T) {
	h := start(t)
	app := h.Client(checkout)
	tokenize(t, app, "email", "deleted@example.com")
	waitHealth(t, h, healthpb.HealthCheckResponse_SERVING, "at start")
	if err := os.Remove(filepath.Join(h.DataDir, "audit", audit.FileName)); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Tokenize(context.Background(), "email", []byte("after@example.com")); status.Code(err) != codes.Unavailable {
		t.Fatalf("Tokenize after the audit log was deleted = %v, want Unavailable", err)
	}
	waitHealth(t, h, healthpb.HealthCheckResponse_NOT_SERVING, "after the audit log was deleted")
	// Closing reports the broken log; stop here so the harness does not.
	if err := h.Server.Stop(); err == nil {
		t.Error("Stop() with the audit log deleted = nil, want the audit error")
	}
	h.Server = nil
}
