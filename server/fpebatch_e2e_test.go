package server_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// TestLargeFPEBatchWaitsForItsEvent: a large fpe batch, whose response is
// built and encoded while its audit event is written, is refused with no
// token when the event cannot be written; once it can, the same batch
// returns one token per value, the same tokens every time, each revealing
// its value, and its event is in the log.
func TestLargeFPEBatchWaitsForItsEvent(t *testing.T) {
	var fail atomic.Bool
	h := servertest.Start(t, servertest.Options{Config: examples.Config, AuditHook: func(next core.Auditor) core.Auditor {
		return failingAuditor{next: next, fail: &fail}
	}})
	c := h.Client(checkout)
	ctx := context.Background()
	items := make([]client.TokenizeItem, 3*core.OverlapItems)
	for i := range items {
		items[i] = client.TokenizeItem{Class: "account_number", Value: fmt.Appendf(nil, "%012d", i*7919+1)}
	}

	fail.Store(true)
	res, err := c.TokenizeBatch(ctx, items)
	if status.Code(err) != codes.Unavailable || res != nil {
		t.Fatalf("TokenizeBatch(%d fpe items) while audit writes fail = %d results, %v; want none, Unavailable", len(items), len(res), err)
	}

	fail.Store(false)
	first, err := c.TokenizeBatch(ctx, items)
	if err != nil {
		t.Fatalf("TokenizeBatch(%d fpe items) error = %v", len(items), err)
	}
	again, err := c.TokenizeBatch(ctx, items)
	if err != nil {
		t.Fatalf("TokenizeBatch(%d fpe items) again: error = %v", len(items), err)
	}
	det := make([]client.DetokenizeItem, len(items))
	for i, r := range first {
		if r.Err != nil || len(r.Token) != 12 || again[i].Token != r.Token {
			t.Fatalf("item %d: tokens %q, %v then %q; want the same 12 digits twice", i, r.Token, r.Err, again[i].Token)
		}
		det[i] = client.DetokenizeItem{Class: "account_number", Token: r.Token}
	}
	vals, err := c.DetokenizeBatch(ctx, "payment", det)
	if err != nil {
		t.Fatalf("DetokenizeBatch(%d fpe tokens) error = %v", len(det), err)
	}
	for i, v := range vals {
		if v.Err != nil || string(v.Value) != string(items[i].Value) {
			t.Errorf("DetokenizeBatch item %d = %q, %v; want %q", i, v.Value, v.Err, items[i].Value)
		}
	}
	h.Stop()
	n := 0
	for _, ev := range auditEvents(t, h.DataDir) {
		if ev.Op == "tokenize" && ev.Class == "account_number" && ev.Count == len(items) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("audit log has %d tokenize events of %d account numbers, want 2 (the refused call's was never written)", n, len(items))
	}
}
