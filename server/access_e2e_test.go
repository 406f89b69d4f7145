package server_test

import (
	"context"
	"testing"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// accessCounts sums, per op and decision, the items of subject's access
// report.
func accessCounts(t *testing.T, h *servertest.Harness, subject string) map[string]int64 {
	t.Helper()
	report, err := h.Client(ops).SubjectAccessReport(context.Background(), subject)
	if err != nil {
		t.Fatalf("SubjectAccessReport(%s) = %v", subject, err)
	}
	out := map[string]int64{}
	for _, a := range report {
		out[a.GetOp()+"/"+a.GetClass()+"/"+a.GetDecision()] += a.GetCount()
	}
	return out
}

// TestEverySubjectOnEveryAccess: a detokenize batch holding tokens of two
// subjects (and one of none), and lookups naming a subject, appear in each
// subject's access report with that subject's items, whatever the batch
// mixed in.
func TestEverySubjectOnEveryAccess(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	app := h.Client(checkout)
	alice := tokenizeFor(t, app, "cust-alice",
		subjectData{class: "card_number", value: "4111111111111111"},
		subjectData{class: "card_number", value: "5555555555554444"},
		subjectData{class: "email", value: "alice@example.com"})
	bob := tokenizeFor(t, app, "cust-bob", subjectData{class: "card_number", value: "4012888888881881"})
	anon := tokenize(t, app, "card_number", "378282246310005")

	items := []client.DetokenizeItem{
		{Class: "card_number", Token: alice[0].token},
		{Class: "card_number", Token: bob[0].token},
		{Class: "card_number", Token: anon},
		{Class: "card_number", Token: alice[1].token},
		{Class: "email", Token: alice[2].token},
	}
	res, err := app.DetokenizeBatch(ctx, "payment", items)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("DetokenizeBatch item %d = %v", i, r.Err)
		}
	}
	if _, err := app.LookupBatch(ctx, []client.TokenizeItem{
		{Class: "email", Value: []byte("alice@example.com"), SubjectID: "cust-alice"},
		{Class: "email", Value: []byte("nobody@example.com"), SubjectID: "cust-bob"},
	}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		subject string
		want    map[string]int64
	}{
		{"cust-alice", map[string]int64{
			"tokenize/card_number/allow": 2, "tokenize/email/allow": 1,
			"detokenize/card_number/allow": 2, "detokenize/email/allow": 1,
			"lookup/email/allow": 1,
		}},
		{"cust-bob", map[string]int64{
			"tokenize/card_number/allow": 1, "detokenize/card_number/allow": 1,
			"lookup/email/deny": 1,
		}},
	}
	for _, tt := range tests {
		got := accessCounts(t, h, tt.subject)
		for k, want := range tt.want {
			if got[k] != want {
				t.Errorf("access report of %s: %s items = %d, want %d (report %v)", tt.subject, k, got[k], want, got)
			}
		}
	}
}
