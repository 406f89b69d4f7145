package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
)

const checkout = "dev-checkout-token-0001"

func startServer(t testing.TB, maxBatch int) *servertest.Harness {
	t.Helper()
	cfg := bytes.Replace(examples.Config, []byte("max_batch: 10000"), []byte(fmt.Sprintf("max_batch: %d", maxBatch)), 1)
	if maxBatch != 10000 && bytes.Equal(cfg, examples.Config) {
		t.Fatal("examples/config.yaml no longer sets max_batch: 10000")
	}
	return servertest.Start(t, servertest.Options{Config: cfg})
}

// TestItemOptions: the single-value calls carry subject, context, tweak
// and TTL to the server.
func TestItemOptions(t *testing.T) {
	c := startServer(t, 10000).Client(checkout)
	ctx := context.Background()

	email, err := c.Tokenize(ctx, "email", []byte("bob@example.com"), client.WithSubject("cust-7"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Lookup(ctx, "email", []byte("bob@example.com"), client.WithSubject("cust-7")); err != nil || got != email {
		t.Errorf("Lookup(email, WithSubject(cust-7)) = %q, %v; want %q", got, err, email)
	}
	if _, err := c.Lookup(ctx, "email", []byte("bob@example.com")); status.Code(err) != codes.NotFound {
		t.Errorf("Lookup(email) without the subject: code = %v, want NotFound (subject-linked values are indexed per subject)", status.Code(err))
	}

	a, err := c.Tokenize(ctx, "account_number", []byte("12345678901"), client.WithTokenContext("tenant-a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Tokenize(ctx, "account_number", []byte("12345678901"), client.WithTokenContext("tenant-b"))
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("Tokenize(account_number) in contexts a and b = %q twice, want two tokens", a)
	}
	if got, err := c.Detokenize(ctx, "payment", "account_number", b, client.WithTokenContext("tenant-b")); err != nil || string(got.Value) != "12345678901" {
		t.Errorf("Detokenize(account_number, WithTokenContext(tenant-b)) = %q, %v; want the value", got.Value, err)
	}

	tweak := []byte("tweak07")
	legacy, err := c.Tokenize(ctx, "legacy_account", []byte("98765432109"), client.WithTweak(tweak))
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.Tokenize(ctx, "legacy_account", []byte("98765432109"), client.WithTweak([]byte("other07")))
	if err != nil {
		t.Fatal(err)
	}
	if legacy == other {
		t.Errorf("Tokenize(legacy_account) with two tweaks = %q both, want two tokens", legacy)
	}
	if got, err := c.Detokenize(ctx, "payment", "legacy_account", legacy, client.WithTweak(tweak)); err != nil || string(got.Value) != "98765432109" {
		t.Errorf("Detokenize(legacy_account, WithTweak) = %q, %v; want the value", got.Value, err)
	}
}

// TestExpiredOrNotFound: both are NotFound; the helpers tell them apart
// by the ErrorInfo reason.
func TestExpiredOrNotFound(t *testing.T) {
	h := startServer(t, 10000)
	c := h.Client(checkout)
	ctx := context.Background()
	tok, err := c.Tokenize(ctx, "card_number", []byte("4111111111111111"), client.WithTTL(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// Poll (bounded) until the TTL has passed on the server's clock.
	var detErr error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, detErr = c.Detokenize(ctx, "payment", "card_number", tok); detErr != nil {
			break
		}
	}
	if !client.IsTokenExpired(detErr) || client.IsTokenNotFound(detErr) || status.Code(detErr) != codes.NotFound {
		t.Errorf("Detokenize(token past its TTL) error = %v (reason %q), want NotFound TOKEN_EXPIRED", detErr, client.Reason(detErr))
	}

	erased, err := c.Tokenize(ctx, "card_number", []byte("4111111111111111"), client.WithSubject("cust-gone"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Client("dev-dpo-token-00000005").EraseSubject(ctx, "cust-gone"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Detokenize(ctx, "payment", "card_number", erased)
	if !client.IsTokenNotFound(err) || client.IsTokenExpired(err) {
		t.Errorf("Detokenize(token of an erased subject) error = %v (reason %q), want TOKEN_NOT_FOUND", err, client.Reason(err))
	}
	var item *client.ItemError
	if !errors.As(err, &item) || item.Index != 0 {
		t.Errorf("Detokenize error = %T %v, want *client.ItemError for item 0", err, err)
	}
}

// TestBatchSplit: a batch over the server's limit is sent in parts, with
// results in item order and item errors at their own index, whether the
// client knows the limit or learns it from the server's refusal.
func TestBatchSplit(t *testing.T) {
	h := startServer(t, 3)
	ctx := context.Background()
	learns := h.Client(checkout)
	knows, err := client.Dial(h.Addr, client.WithInsecure(), client.WithBearerToken(checkout), client.WithMaxBatch(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { knows.Close() })
	tests := []struct {
		name string
		c    *client.Client
	}{
		{"learns the limit", learns},
		{"WithMaxBatch(2)", knows},
	}
	for _, tt := range tests {
		items := make([]client.TokenizeItem, 8)
		for i := range items {
			items[i] = client.TokenizeItem{Class: "email", Value: fmt.Appendf(nil, "user%d@example.com", i)}
		}
		items[6].Class = "no_such_class"
		res, err := tt.c.TokenizeBatch(ctx, items)
		if err != nil || len(res) != len(items) {
			t.Fatalf("%s: TokenizeBatch(8 items, limit 3) = %d results, %v; want 8", tt.name, len(res), err)
		}
		var item *client.ItemError
		if !errors.As(res[6].Err, &item) || item.Index != 6 || status.Code(res[6].Err) != codes.InvalidArgument {
			t.Errorf("%s: TokenizeBatch item 6 error = %v, want InvalidArgument at index 6", tt.name, res[6].Err)
		}
		det := []client.DetokenizeItem{}
		want := []string{}
		for i, r := range res {
			if i != 6 && r.Err != nil {
				t.Errorf("%s: TokenizeBatch item %d error = %v, want a token", tt.name, i, r.Err)
			}
			if i != 6 {
				det = append(det, client.DetokenizeItem{Class: "email", Token: r.Token})
				want = append(want, string(items[i].Value))
			}
		}
		got, err := tt.c.DetokenizeBatch(ctx, "payment", det)
		if err != nil || len(got) != len(det) {
			t.Fatalf("%s: DetokenizeBatch(7 items, limit 3) = %d results, %v; want 7", tt.name, len(got), err)
		}
		for i := range got {
			if got[i].Err != nil || string(got[i].Value) != want[i] {
				t.Errorf("%s: DetokenizeBatch item %d = %q, %v; want %q", tt.name, i, got[i].Value, got[i].Err, want[i])
			}
		}
	}
}

// TestSingleValueErrors: a single-value call reports its item's error as
// an *ItemError for item 0 and a refused call as the call's status, as
// the batch calls do.
func TestSingleValueErrors(t *testing.T) {
	h := startServer(t, 10000)
	ctx := context.Background()
	c := h.Client(checkout)

	_, err := c.Tokenize(ctx, "no_such_class", []byte("v"))
	var item *client.ItemError
	if !errors.As(err, &item) || item.Index != 0 || status.Code(err) == codes.OK {
		t.Errorf("Tokenize(no_such_class) error = %T %v, want *client.ItemError for item 0 with a status", err, err)
	}
	res, batchErr := c.TokenizeBatch(ctx, []client.TokenizeItem{{Class: "no_such_class", Value: []byte("v")}})
	if batchErr != nil {
		t.Fatal(batchErr)
	}
	if status.Code(err) != status.Code(res[0].Err) {
		t.Errorf("Tokenize(no_such_class) code = %v, want %v as TokenizeBatch's item", status.Code(err), status.Code(res[0].Err))
	}

	_, err = c.Detokenize(ctx, "payment", "no_such_class", "tok")
	if !errors.As(err, &item) || item.Index != 0 || status.Code(err) == codes.OK {
		t.Errorf("Detokenize(no_such_class) error = %T %v, want *client.ItemError for item 0 with a status", err, err)
	}

	stranger := h.Client("not-a-configured-token")
	if _, err := stranger.Tokenize(ctx, "email", []byte("bob@example.com")); status.Code(err) != codes.Unauthenticated || errors.As(err, &item) {
		t.Errorf("Tokenize with an unknown bearer token: error = %T %v, want the call's Unauthenticated status", err, err)
	}
	if _, err := stranger.Detokenize(ctx, "payment", "email", "tok"); status.Code(err) != codes.Unauthenticated || errors.As(err, &item) {
		t.Errorf("Detokenize with an unknown bearer token: error = %T %v, want the call's Unauthenticated status", err, err)
	}
}
