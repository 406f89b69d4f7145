package metrics_test

import (
	"errors"
	"testing"

	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/metrics"
)

// TestItemsRouting: each outcome lands in the counter named for it, with
// the labels of that counter only.
func TestItemsRouting(t *testing.T) {
	r := metrics.New()
	r.Items(core.Outcome{Op: "tokenize", Class: "email", Mode: "deterministic", Result: core.ResultOK}, 3)
	r.Items(core.Outcome{Op: "lookup", Class: "email", Mode: "deterministic", Result: core.ResultOK}, 1)
	r.Items(core.Outcome{Op: "detokenize", Class: "email", Mode: "deterministic", Purpose: "payment", Result: core.ResultOK, Reason: "masked"}, 2)
	r.Items(core.Outcome{Op: "detokenize", Class: "email", Mode: "deterministic", Purpose: "(undeclared)", Result: core.ResultDenied, Reason: "policy"}, 4)
	r.Items(core.Outcome{Op: "lookup", Class: "(unknown)", Result: core.ResultError, Reason: "invalid"}, 5)
	r.Alert("quota")
	r.Alert("quota")
	r.AuditFailed()
	r.PolicyReload(errors.New("bad file"))
	r.KeyRefresh(errors.New("vault down"))

	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"privacyvault_tokenized_total", []string{"op", "tokenize", "class", "email", "mode", "deterministic"}, 3},
		{"privacyvault_tokenized_total", []string{"op", "lookup", "class", "email", "mode", "deterministic"}, 1},
		{"privacyvault_detokenized_total", []string{"class", "email", "mode", "deterministic", "purpose", "payment", "reveal", "masked"}, 2},
		{"privacyvault_denied_total", []string{"op", "detokenize", "class", "email", "mode", "deterministic", "purpose", "(undeclared)", "reason", "policy"}, 4},
		{"privacyvault_item_errors_total", []string{"op", "lookup", "class", "(unknown)", "mode", "", "reason", "invalid"}, 5},
		{"privacyvault_alerts_total", []string{"kind", "quota"}, 2},
		{"privacyvault_audit_failures_total", nil, 1},
		{"privacyvault_policy_reloads_total", []string{"result", "error"}, 1},
		{"privacyvault_key_refreshes_total", []string{"result", "error"}, 1},
		{"privacyvault_key_provider_up", nil, 0},
		{"privacyvault_build_info", nil, 0}, // has labels: no series without them
	}
	for _, tt := range tests {
		if got := r.Get(tt.name, tt.labels...); got != tt.want {
			t.Errorf("Get(%s, %q) = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}
