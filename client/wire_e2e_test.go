package client_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// paths returns two clients of the sidecar h as one caller: Dial's,
// which sends batches on the direct path, and one with a dial option,
// which sends them as protobuf messages.
func paths(t *testing.T, h *servertest.Harness, token string) (direct, message *client.Client) {
	t.Helper()
	c, err := client.Dial(h.Addr, client.WithInsecure(), client.WithBearerToken(token), client.WithDialOptions(grpc.WithUserAgent("message-path")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return h.Client(token), c
}

// mixedItems is a batch of every kind of item, with item errors at 3
// and 7.
func mixedItems(n int) []client.TokenizeItem {
	items := make([]client.TokenizeItem, n)
	for i := range items {
		items[i] = client.TokenizeItem{Class: "account_number", Value: fmt.Appendf(nil, "%011d", i*7919)}
	}
	items[1] = client.TokenizeItem{Class: "email", Value: []byte("alice@example.com"), SubjectID: "cust-1"}
	items[2] = client.TokenizeItem{Class: "account_number", Value: []byte("12345678901"), Context: "tenant-a"}
	items[3] = client.TokenizeItem{Class: "no_such_class", Value: []byte("v")}
	items[4] = client.TokenizeItem{Class: "legacy_account", Value: []byte("98765432109"), Tweak: []byte("tweak07")}
	items[5] = client.TokenizeItem{Class: "card_number", Value: []byte("4111111111111111"), TTL: time.Hour}
	items[6] = client.TokenizeItem{Class: "card_fpe", Value: []byte("4111111111111111")}
	items[7] = client.TokenizeItem{Class: "account_number", Value: []byte("not digits")}
	return items
}

// The direct batch path and the message path agree through the real
// server: the same tokens for the same values (fpe and deterministic
// classes), results in item order, item errors at their index with the
// same status, and each path's tokens resolve on the other.
func TestBatchPathsAgree(t *testing.T) {
	h := startServer(t, 10000)
	direct, message := paths(t, h, checkout)
	ctx := context.Background()
	items := mixedItems(40)
	got, err := direct.TokenizeBatch(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	want, err := message.TokenizeBatch(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(items) || len(want) != len(items) {
		t.Fatalf("TokenizeBatch(%d items) = %d results direct, %d message; want %d", len(items), len(got), len(want), len(items))
	}
	for i := range items {
		random := items[i].Class == "card_number"
		switch {
		case (got[i].Err == nil) != (want[i].Err == nil):
			t.Errorf("item %d: direct error %v, message error %v", i, got[i].Err, want[i].Err)
		case got[i].Err != nil:
			var ge, we *client.ItemError
			if !errors.As(got[i].Err, &ge) || !errors.As(want[i].Err, &we) || ge.Index != i || got[i].Err.Error() != want[i].Err.Error() || client.Reason(got[i].Err) != client.Reason(want[i].Err) {
				t.Errorf("item %d: direct error %v, want %v as *ItemError at %d", i, got[i].Err, want[i].Err, i)
			}
		case got[i].Token == "":
			t.Errorf("item %d: direct token empty", i)
		case !random && got[i].Token != want[i].Token:
			t.Errorf("item %d (%s): direct token %q, message token %q; want the same", i, items[i].Class, got[i].Token, want[i].Token)
		}
	}
	if got[3].Err == nil || status.Code(got[3].Err) != codes.InvalidArgument || got[7].Err == nil {
		t.Errorf("items 3 and 7 errors = %v, %v; want item errors (InvalidArgument for the unknown class)", got[3].Err, got[7].Err)
	}
	for _, tt := range []struct {
		name     string
		from, to *client.Client
		res      []client.TokenResult
	}{{"direct tokens through the message path", direct, message, got}, {"message tokens through the direct path", message, direct, want}} {
		var det []client.DetokenizeItem
		var values []string
		for i, r := range tt.res {
			if r.Err == nil {
				it := items[i]
				det = append(det, client.DetokenizeItem{Class: it.Class, Token: r.Token, Context: it.Context, Tweak: it.Tweak, SubjectID: it.SubjectID})
				values = append(values, string(it.Value))
			}
		}
		det = append(det, client.DetokenizeItem{Class: "account_number", Token: "12"}) // too short for the format: an item error
		rev, err := tt.to.DetokenizeBatch(ctx, "payment", det)
		if err != nil || len(rev) != len(det) {
			t.Fatalf("%s: DetokenizeBatch(%d) = %d results, %v", tt.name, len(det), len(rev), err)
		}
		for i, v := range values {
			if rev[i].Err != nil || string(rev[i].Value) != v || rev[i].Level != client.Plain {
				t.Errorf("%s: item %d = %q (level %v), %v; want %q plain", tt.name, i, rev[i].Value, rev[i].Level, rev[i].Err, v)
			}
		}
		var ie *client.ItemError
		if last := rev[len(rev)-1]; !errors.As(last.Err, &ie) || ie.Index != len(det)-1 || last.Value != nil {
			t.Errorf("%s: last item = %q, %v; want an *ItemError at %d", tt.name, last.Value, last.Err, len(det)-1)
		}
	}
}

// Reveal levels other than plain come back on the direct path.
func TestBatchPathMasked(t *testing.T) {
	h := startServer(t, 10000)
	direct, message := paths(t, h, "dev-support-token-0002")
	ctx := context.Background()
	res, err := direct.TokenizeBatch(ctx, []client.TokenizeItem{{Class: "card_fpe", Value: []byte("4111111111111111")}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("TokenizeBatch = %v, %v", res, err)
	}
	items := []client.DetokenizeItem{{Class: "card_fpe", Token: res[0].Token}}
	got, err := direct.DetokenizeBatch(ctx, "customer-support", items)
	if err != nil {
		t.Fatal(err)
	}
	want, err := message.DetokenizeBatch(ctx, "customer-support", items)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Err != nil || got[0].Level != client.Masked || string(got[0].Value) != string(want[0].Value) || want[0].Level != client.Masked {
		t.Errorf("DetokenizeBatch(support) = %q level %v, %v; want the message path's %q level %v", got[0].Value, got[0].Level, got[0].Err, want[0].Value, want[0].Level)
	}
}

// An empty batch and strings that are not UTF-8 fail on the direct path
// as on the message path.
func TestBatchPathErrors(t *testing.T) {
	h := startServer(t, 10000)
	direct, message := paths(t, h, checkout)
	ctx := context.Background()
	tests := []struct {
		name string
		call func(*client.Client) error
	}{
		{"empty tokenize", func(c *client.Client) error { _, err := c.TokenizeBatch(ctx, nil); return err }},
		{"empty detokenize", func(c *client.Client) error { _, err := c.DetokenizeBatch(ctx, "payment", nil); return err }},
		{"class not UTF-8", func(c *client.Client) error {
			_, err := c.TokenizeBatch(ctx, []client.TokenizeItem{{Class: "\xff", Value: []byte("v")}})
			return err
		}},
		{"purpose not UTF-8", func(c *client.Client) error {
			_, err := c.DetokenizeBatch(ctx, "\xff", []client.DetokenizeItem{{Class: "email", Token: "t"}})
			return err
		}},
	}
	for _, tt := range tests {
		got, want := tt.call(direct), tt.call(message)
		if got == nil || status.Code(got) != status.Code(want) || got.Error() != want.Error() {
			t.Errorf("%s: direct error %v, want the message path's %v", tt.name, got, want)
		}
	}
}

// A large batch (split by the client at the server's limit) comes back in
// item order on the direct path.
func TestBatchPathLarge(t *testing.T) {
	h := startServer(t, 2000)
	c := h.Client(checkout)
	ctx := context.Background()
	const n = 4500
	items := make([]client.TokenizeItem, n)
	for i := range items {
		items[i] = client.TokenizeItem{Class: "account_number", Value: fmt.Appendf(nil, "%011d", i)}
	}
	res, err := c.TokenizeBatch(ctx, items)
	if err != nil || len(res) != n {
		t.Fatalf("TokenizeBatch(%d) = %d results, %v", n, len(res), err)
	}
	det := make([]client.DetokenizeItem, n)
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		det[i] = client.DetokenizeItem{Class: "account_number", Token: r.Token}
	}
	rev, err := c.DetokenizeBatch(ctx, "payment", det)
	if err != nil || len(rev) != n {
		t.Fatalf("DetokenizeBatch(%d) = %d results, %v", n, len(rev), err)
	}
	for i, r := range rev {
		if want := fmt.Sprintf("%011d", i); r.Err != nil || string(r.Value) != want {
			t.Fatalf("item %d = %q, %v; want %q", i, r.Value, r.Err, want)
		}
	}
}
