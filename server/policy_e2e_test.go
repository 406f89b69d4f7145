package server_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// TestPolicyReload: a valid change applies without a restart; a broken
// file is rejected with its file:line error and the old policy keeps
// serving.
func TestPolicyReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, examples.Config, 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	h := servertest.Start(t, servertest.Options{Config: examples.Config, ConfigPath: path, Logs: logs})
	app := h.Client(checkout)
	card := tokenize(t, app, "card_number", "4111111111111111")
	detok := func() codes.Code {
		_, err := h.Client(analytics).Detokenize(context.Background(), "analytics", "card_number", card)
		return status.Code(err)
	}
	if got := detok(); got != codes.PermissionDenied {
		t.Fatalf("Detokenize(analytics, card) before reload = %v, want PermissionDenied", got)
	}

	granted := strings.Replace(string(examples.Config), "  grants:\n", "  grants:\n    - identity: analytics\n      purpose: analytics\n      class: card_number\n      reveal: masked\n", 1)
	if err := os.WriteFile(path, []byte(granted), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.Server.ReloadPolicy(); err != nil {
		t.Fatalf("ReloadPolicy(valid file) error = %v", err)
	}
	if got := detok(); got != codes.OK {
		t.Errorf("Detokenize(analytics, card) after reload = %v, want OK", got)
	}

	broken := strings.Replace(granted, "      reveal: masked\n", "      reveal: everything\n", 1)
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	err := h.Server.ReloadPolicy()
	if err == nil || !strings.Contains(err.Error(), path+":") || !strings.Contains(err.Error(), "policy.grants[0].reveal") {
		t.Errorf("ReloadPolicy(broken file) error = %v, want file:line and the field", err)
	}
	if got := detok(); got != codes.OK {
		t.Errorf("Detokenize after a rejected reload = %v, want OK (old policy kept)", got)
	}
	if !strings.Contains(logs.String(), "policy reload rejected") {
		t.Errorf("log does not report the rejected reload")
	}
	if got := h.Server.Metrics().Get("privacyvault_policy_reloads_total", "result", "error"); got != 1 {
		t.Errorf("policy reload error metric = %v, want 1", got)
	}

	// The file watcher picks up changes without an explicit reload.
	if err := os.WriteFile(path, examples.Config, 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for detok() != codes.PermissionDenied {
		if time.Now().After(deadline) {
			t.Fatal("the watcher did not reload the restored file within 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAlertsAndQuotas: honeytoken and quota breaches are refused, written
// to the audit log as alerts, logged at WARN and counted.
func TestAlertsAndQuotas(t *testing.T) {
	logs := &syncBuffer{}
	h := servertest.Start(t, servertest.Options{Config: examples.Config, Logs: logs})
	support := h.Client(support)
	card := tokenize(t, h.Client(checkout), "card_number", "4111111111111111")
	if _, err := h.Client(checkout).Detokenize(context.Background(), "payment", "card_fpe", "4111110000001111"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("Detokenize(honeytoken) = %v, want PermissionDenied", err)
	}
	items := make([]client.DetokenizeItem, 50)
	for i := range items {
		items[i] = client.DetokenizeItem{Class: "card_number", Token: card}
	}
	if _, err := support.DetokenizeBatch(context.Background(), "customer-support", items); err != nil {
		t.Fatalf("DetokenizeBatch(50 items, quota 50/s) = %v", err)
	}
	_, err := support.DetokenizeBatch(context.Background(), "customer-support", items[:1])
	if status.Code(err) != codes.ResourceExhausted {
		// The second may have fallen into the next one-second window;
		// exceed the window in a single call to be sure.
		_, err = support.DetokenizeBatch(context.Background(), "customer-support", append(items, items[0]))
	}
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("Detokenize over quota = %v, want ResourceExhausted", err)
	}
	for _, kind := range []string{"honeytoken", "quota"} {
		if got := h.Server.Metrics().Get("privacyvault_alerts_total", "kind", kind); got < 1 {
			t.Errorf("alert metric %s = %v, want at least 1", kind, got)
		}
		if !strings.Contains(logs.String(), `"alert":"`+kind+`"`) || !strings.Contains(logs.String(), `"level":"WARN"`) {
			t.Errorf("no WARN log line for the %s alert", kind)
		}
	}
	h.Stop()
	b, err := os.ReadFile(filepath.Join(h.DataDir, "audit", audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{`"alert":"honeytoken"`, `"alert":"quota"`} {
		if !bytes.Contains(b, []byte(kind)) {
			t.Errorf("audit log has no %s event", kind)
		}
	}
}

// TestStaticTokensNeedDev: outside --dev, static bearer tokens are refused
// at start-up.
func TestStaticTokensNeedDev(t *testing.T) {
	cfg := mustParse(t, examples.Config)
	cfg.Server.DataDir = t.TempDir()
	cfg.Server.Listen = "127.0.0.1:0"
	_, err := server.Start(context.Background(), server.Options{Config: cfg})
	if err == nil || !strings.Contains(err.Error(), "--dev") {
		t.Errorf("Start(callers without Dev) error = %v, want a refusal naming --dev", err)
	}
}

func mustParse(t *testing.T, b []byte) *config.Config {
	t.Helper()
	c, err := config.Parse("test.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
