package server_test

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// scrape fetches /metrics of h and parses it with Prometheus's text parser.
func scrape(t *testing.T, h *servertest.Harness) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	addr := h.Server.MetricsAddr()
	if addr == nil {
		t.Fatal("MetricsAddr() = nil, want the metrics listener")
	}
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d, %v", resp.StatusCode, err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return string(body), mfs
}

// value returns the counter, gauge or histogram count of the series of
// name whose labels include want; ok is false when there is none.
func value(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if got[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func withMetrics(cfg []byte) []byte {
	return []byte(strings.Replace(string(cfg), `listen: ""   # e.g. 127.0.0.1:9464`, `listen: "127.0.0.1:0" #`, 1))
}

// TestMetricsScrape drives real calls through the gRPC API, scrapes
// /metrics and checks every metric family the sidecar promises, and that
// no value, token or subject reaches a label.
func TestMetricsScrape(t *testing.T) {
	h := servertest.Start(t, servertest.Options{Config: withMetrics(examples.Config)})
	ctx := context.Background()
	app := h.Client(checkout)

	const secret = "4111111111111111"
	const subject = "cust-metrics-4242"
	res, err := app.TokenizeBatch(ctx, []client.TokenizeItem{
		{Class: "card_number", Value: []byte(secret), SubjectID: subject},
		{Class: "card_number", Value: []byte("5555555555554444")},
		{Class: "email", Value: []byte("alice@example.com")},
		{Class: "alice@example.com", Value: []byte("x")}, // a value where a class belongs
		{Class: "email", Value: []byte("not an e-mail")},
	})
	if err != nil {
		t.Fatalf("TokenizeBatch() error = %v", err)
	}
	card := res[0].Token
	if card == "" || res[3].Err == nil || res[4].Err == nil {
		t.Fatalf("TokenizeBatch() = %+v, want items 0-2 ok and 3-4 failed", res)
	}
	if _, err := app.Detokenize(ctx, "payment", "card_number", card); err != nil {
		t.Fatalf("Detokenize(payment) error = %v", err)
	}
	if _, err := h.Client(support).Detokenize(ctx, "customer-support", "card_number", card); err != nil {
		t.Fatalf("Detokenize(customer-support) error = %v", err)
	}
	if _, err := app.Detokenize(ctx, "analytics", "card_number", card); err == nil {
		t.Fatal("Detokenize(checkout, analytics) succeeded, want PermissionDenied")
	}
	if _, err := app.Detokenize(ctx, card, "card_number", card); err == nil { // a token where a purpose belongs
		t.Fatal("Detokenize(undeclared purpose) succeeded, want PermissionDenied")
	}
	if _, err := app.Detokenize(ctx, "payment", "card_fpe", "4111110000001111"); err == nil {
		t.Fatal("Detokenize(honeytoken) succeeded, want PermissionDenied")
	}

	over := make([]client.DetokenizeItem, 60) // support's quota is 50 per second
	for i := range over {
		over[i] = client.DetokenizeItem{Class: "card_number", Token: card}
	}
	if _, err := h.Client(support).DetokenizeBatch(ctx, "customer-support", over); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("DetokenizeBatch(over quota) = %v, want ResourceExhausted", err)
	}

	body, mfs := scrape(t, h)
	tests := []struct {
		name   string
		labels map[string]string
		want   float64 // exact, or the minimum when least
		least  bool
	}{
		{"privacyvault_tokenized_total", map[string]string{"op": "tokenize", "class": "card_number", "mode": "random"}, 2, false},
		{"privacyvault_tokenized_total", map[string]string{"op": "tokenize", "class": "email", "mode": "deterministic"}, 1, false},
		{"privacyvault_item_errors_total", map[string]string{"op": "tokenize", "class": "(unknown)", "reason": "invalid"}, 1, false},
		{"privacyvault_item_errors_total", map[string]string{"op": "tokenize", "class": "email", "reason": "invalid"}, 1, false},
		{"privacyvault_detokenized_total", map[string]string{"class": "card_number", "purpose": "payment", "reveal": "plain"}, 1, false},
		{"privacyvault_detokenized_total", map[string]string{"class": "card_number", "purpose": "customer-support", "reveal": "masked"}, 1, false},
		{"privacyvault_denied_total", map[string]string{"class": "card_number", "purpose": "analytics", "reason": "policy"}, 1, false},
		{"privacyvault_denied_total", map[string]string{"class": "card_number", "purpose": "(undeclared)", "reason": "policy"}, 1, false},
		{"privacyvault_denied_total", map[string]string{"class": "card_fpe", "purpose": "payment", "reason": "honeytoken"}, 1, false},
		{"privacyvault_denied_total", map[string]string{"class": "card_number", "purpose": "customer-support", "reason": "quota"}, 60, false},
		{"privacyvault_alerts_total", map[string]string{"kind": "honeytoken"}, 1, false},
		{"privacyvault_alerts_total", map[string]string{"kind": "quota"}, 1, false},
		{"grpc_server_handled_total", map[string]string{"grpc_method": "Detokenize", "grpc_code": "ResourceExhausted"}, 1, false},
		{"grpc_server_handled_total", map[string]string{"grpc_service": "privacyvault.v1.TokenService", "grpc_method": "Tokenize", "grpc_code": "OK"}, 1, false},
		{"grpc_server_handled_total", map[string]string{"grpc_method": "Detokenize", "grpc_code": "OK"}, 5, false}, // per-item errors
		{"grpc_server_handling_seconds", map[string]string{"grpc_method": "Detokenize"}, 6, false},
		{"grpc_server_handled_total", map[string]string{"grpc_method": "RotateKey", "grpc_code": "OK"}, 0, false}, // pre-initialised
		{"privacyvault_audit_append_seconds", nil, 6, true},
		{"privacyvault_store_commit_seconds", map[string]string{"op": "insert"}, 1, true},
		{"privacyvault_key_provider_up", nil, 1, false},
		{"privacyvault_key_refreshes_total", map[string]string{"result": "ok"}, 1, true},
		{"privacyvault_keyring_versions", map[string]string{"class": "email", "mode": "deterministic"}, 1, false},
		{"privacyvault_keyring_current_version", map[string]string{"class": "card_number"}, 1, false},
		{"privacyvault_keys_last_refresh_age_seconds", nil, 0, true},
		{"privacyvault_keys_refresh_interval_seconds", nil, 30, false},
		{"privacyvault_store_size_bytes", map[string]string{"part": "vlog"}, 0, true},
		{"privacyvault_audit_failures_total", nil, 0, false},
		{"privacyvault_build_info", map[string]string{"goversion": runtime.Version()}, 1, false},
	}
	for _, tt := range tests {
		got, ok := value(mfs, tt.name, tt.labels)
		switch {
		case !ok:
			t.Errorf("%s%v: no such series in /metrics", tt.name, tt.labels)
		case tt.least && got < tt.want:
			t.Errorf("%s%v = %v, want at least %v", tt.name, tt.labels, got, tt.want)
		case !tt.least && got != tt.want:
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	for _, leak := range []string{secret, "5555555555554444", "alice@example.com", subject, card, "4111110000001111"} {
		if strings.Contains(body, leak) {
			t.Errorf("/metrics contains %q (a value, token or subject)", leak)
		}
	}
}

// TestMetricsCountGatewayCalls: calls through the HTTP/JSON gateway run
// the same interceptors, so they are counted like gRPC calls.
func TestMetricsCountGatewayCalls(t *testing.T) {
	h := servertest.Start(t, servertest.Options{Config: withMetrics(examples.Config), HTTP: true})
	req, _ := http.NewRequest("POST", "http://"+h.HTTPAddr+"/v1/tokens:tokenize",
		strings.NewReader(`{"items":[{"class":"email","value":"ZGF2ZUBleGFtcGxlLmNvbQ=="}]}`))
	req.Header.Set("Authorization", "Bearer "+checkout)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/tokens:tokenize = %d, want 200", resp.StatusCode)
	}
	_, mfs := scrape(t, h)
	if got, _ := value(mfs, "grpc_server_handled_total", map[string]string{"grpc_method": "Tokenize", "grpc_code": "OK"}); got != 1 {
		t.Errorf("grpc_server_handled_total{Tokenize,OK} after one gateway call = %v, want 1", got)
	}
	if got, _ := value(mfs, "privacyvault_tokenized_total", map[string]string{"class": "email"}); got != 1 {
		t.Errorf("privacyvault_tokenized_total{email} after one gateway call = %v, want 1", got)
	}
}
