package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// startErr starts a server on dir the way `serve` does and returns the
// error Start gave (stopping the server if it started).
func startErr(t *testing.T, dir string, acceptReset bool) error {
	t.Helper()
	cfg, err := config.Parse("test-config.yaml", examples.Config)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir, cfg.Server.Listen = dir, "127.0.0.1:0"
	s, err := server.Start(context.Background(), server.Options{Config: cfg, Dev: true,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), AcceptAuditLogReset: acceptReset})
	if err == nil {
		s.Stop()
	}
	return err
}

func auditPath(dir string) string { return filepath.Join(dir, "audit", audit.FileName) }

// sidecarWithEvents runs a sidecar on a fresh directory, makes some
// audited calls and stops it.
func sidecarWithEvents(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	for range 5 {
		tokenize(t, h.Client(checkout), "email", "someone@example.com")
	}
	h.Stop()
	return dir
}

// TestShortenedAuditLogRefused: a log cut or deleted between restarts is
// refused at start with both heads named; the operator flag accepts it
// and the reset is itself in the log.
func TestShortenedAuditLogRefused(t *testing.T) {
	tests := []struct {
		name   string
		damage func(path string) error
		kind   string
	}{
		{"truncated", func(path string) error {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			lines := strings.SplitAfter(string(b), "\n")
			return os.WriteFile(path, []byte(strings.Join(lines[:3], "")), 0o600)
		}, audit.KindBehind},
		{"deleted", os.Remove, audit.KindBehind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := sidecarWithEvents(t)
			if err := tt.damage(auditPath(dir)); err != nil {
				t.Fatal(err)
			}
			err := startErr(t, dir, false)
			var he *audit.HeadError
			if !errors.As(err, &he) || he.Kind != tt.kind || he.Recorded.Seq == 0 || !strings.Contains(err.Error(), he.Recorded.Hash) {
				t.Fatalf("Start(%s log) = %v, want a %s error naming the recorded head", tt.name, err, tt.kind)
			}
			if err := startErr(t, dir, true); err != nil {
				t.Fatalf("Start(%s log, accept reset) = %v, want it to start", tt.name, err)
			}
			b, err := os.ReadFile(auditPath(dir))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"op":"audit.reset"`) {
				t.Errorf("accepted reset not recorded in the log:\n%s", b)
			}
			if err := startErr(t, dir, false); err != nil {
				t.Errorf("Start() after the accepted reset = %v, want it to start", err)
			}
		})
	}
}

// TestAuditLogDeletedWhileRunning: once the log file is unlinked, calls
// fail Unavailable instead of writing events nobody can read.
func TestAuditLogDeletedWhileRunning(t *testing.T) {
	h := servertest.Start(t, servertest.Options{Config: examples.Config})
	app := h.Client(checkout)
	tokenize(t, app, "email", "before@example.com")
	if err := os.Remove(auditPath(h.DataDir)); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Tokenize(context.Background(), "email", []byte("after@example.com")); status.Code(err) != codes.Unavailable {
		t.Errorf("Tokenize() after the audit log was deleted = %v, want Unavailable", err)
	}
	err := h.Server.Stop()
	h.Server = nil
	if !errors.Is(err, audit.ErrFileReplaced) {
		t.Errorf("Stop() = %v, want the audit log's ErrFileReplaced", err)
	}
}

// TestVerifyAuditComparesRunningHead: a log cut while the sidecar runs
// verifies as a chain, but not against the head the sidecar wrote.
func TestVerifyAuditComparesRunningHead(t *testing.T) {
	h := servertest.Start(t, servertest.Options{Config: examples.Config})
	app, admin := h.Client(checkout), h.Client(ops)
	for range 4 {
		tokenize(t, app, "email", "someone@example.com")
	}
	r, err := admin.VerifyAudit(context.Background())
	if err != nil || !r.GetOk() || r.GetHeadSeq() == 0 {
		t.Fatalf("VerifyAudit(untouched) = %v, %v; want ok with the head", r, err)
	}
	path := auditPath(h.DataDir)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.Truncate(path, int64(len(strings.Join(lines[:2], "")))); err != nil {
		t.Fatal(err)
	}
	r, err = admin.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.GetOk() || r.GetKind() != audit.KindBehind || !strings.Contains(r.GetMessage(), r.GetHeadHash()) {
		t.Errorf("VerifyAudit(log cut while running) = %v, want not ok, kind %s, naming the head", r, audit.KindBehind)
	}
}
