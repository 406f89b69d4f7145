package server_test

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// TestDeterministicDeleteRectifyOverGRPC: deterministic tokens of a
// large batch (records indexed by their ID, one store entry each) are
// stable and looked up; a deleted one stops resolving and, tokenized
// again, its value gets a new token that resolves — also after a restart,
// when the deleted token is still gone and the new one still the
// value's; a rectified token resolves to the new value, which keeps it,
// and its old value gets a token of its own.
func TestDeterministicDeleteRectifyOverGRPC(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	ctx := context.Background()
	app, dpoC := h.Client(checkout), h.Client(dpo)
	items := make([]client.TokenizeItem, 300)
	for i := range items {
		items[i] = client.TokenizeItem{Class: "email", Value: []byte(fmt.Sprintf("person-%03d@example.com", i))}
	}
	tokenize := func(c *client.Client, items []client.TokenizeItem) []string {
		t.Helper()
		res, err := c.TokenizeBatch(ctx, items)
		if err != nil {
			t.Fatalf("TokenizeBatch() = %v", err)
		}
		toks := make([]string, len(res))
		for i, r := range res {
			if r.Err != nil {
				t.Fatalf("TokenizeBatch()[%d] = %v", i, r.Err)
			}
			toks[i] = r.Token
		}
		return toks
	}
	reveals := func(c *client.Client, tok, want string) {
		t.Helper()
		got, err := c.Detokenize(ctx, "payment", "email", tok)
		if err != nil || string(got.Value) != want {
			t.Errorf("Detokenize(%s) = %q, %v; want %q", want, got.Value, err, want)
		}
	}
	gone := func(c *client.Client, tok string) {
		t.Helper()
		if _, err := c.Detokenize(ctx, "payment", "email", tok); status.Code(err) != codes.NotFound {
			t.Errorf("Detokenize(deleted token) = %v, want NotFound", err)
		}
	}
	toks := tokenize(app, items)
	if again := tokenize(app, items); again[0] != toks[0] || again[299] != toks[299] {
		t.Fatalf("TokenizeBatch(same values) = %q…%q, want %q…%q", again[0], again[299], toks[0], toks[299])
	}
	if got, err := app.Lookup(ctx, "email", items[10].Value); err != nil || got != toks[10] {
		t.Errorf("Lookup() = %q, %v; want %q", got, err, toks[10])
	}

	if _, err := dpoC.DeleteToken(ctx, "email", toks[3]); err != nil {
		t.Fatalf("DeleteToken() = %v", err)
	}
	gone(app, toks[3])
	if _, err := app.Lookup(ctx, "email", items[3].Value); status.Code(err) != codes.NotFound {
		t.Errorf("Lookup(deleted value) = %v, want NotFound", err)
	}
	next := tokenize(app, items[3:4])[0]
	if next == toks[3] {
		t.Fatalf("TokenizeBatch(deleted value) = the deleted token, want a new one")
	}
	reveals(app, next, string(items[3].Value))
	gone(app, toks[3])

	const fixed = "fixed@example.com"
	if err := dpoC.RectifyToken(ctx, "email", toks[4], []byte(fixed)); err != nil {
		t.Fatalf("RectifyToken() = %v", err)
	}
	reveals(app, toks[4], fixed)
	if got := tokenize(app, []client.TokenizeItem{{Class: "email", Value: []byte(fixed)}})[0]; got != toks[4] {
		t.Errorf("TokenizeBatch(rectified value) = %q, want the rectified token %q", got, toks[4])
	}
	oldValue := tokenize(app, items[4:5])[0]
	if oldValue == toks[4] {
		t.Errorf("TokenizeBatch(value before rectification) = the rectified token, want a token of its own")
	}
	reveals(app, oldValue, string(items[4].Value))

	h.Stop()
	h = servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	app = h.Client(checkout)
	gone(app, toks[3])
	after := tokenize(app, items[:6])
	want := []string{toks[0], toks[1], toks[2], next, oldValue, toks[5]}
	for i := range after {
		if after[i] != want[i] {
			t.Errorf("after restart, TokenizeBatch(value %d) = %q, want %q", i, after[i], want[i])
		}
	}
	reveals(app, next, string(items[3].Value))
}
