package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
)

// largeBatch is more items than one core's share, so the data plane
// spreads their crypto and audit fingerprints over the cores.
const largeBatch = 400

// mixedItem returns item i of a batch mixing every vaultless mode, vaulted
// classes, subjects, and items that fail.
func mixedItem(i int) client.TokenizeItem {
	switch i % 8 {
	case 0:
		return client.TokenizeItem{Class: "account_number", Value: fmt.Appendf(nil, "%012d", i*7919)}
	case 1:
		return client.TokenizeItem{Class: "member_number", Value: fmt.Appendf(nil, "%010d", i), SubjectID: fmt.Sprint("member-", i%3)}
	case 2:
		return client.TokenizeItem{Class: "card_last4", Value: []byte("4111 1111 1111 1111")}
	case 3:
		return client.TokenizeItem{Class: "email_pseudonym", Value: fmt.Appendf(nil, "user%d@example.com", i)}
	case 4:
		return client.TokenizeItem{Class: "account_number", Value: []byte("12")} // domain too small
	case 5:
		return client.TokenizeItem{Class: "no_such_class", Value: []byte("x")}
	case 6:
		return client.TokenizeItem{Class: "card_number", Value: []byte("4111111111111111")}
	}
	return client.TokenizeItem{Class: "email", Value: fmt.Appendf(nil, "cust%d@example.com", i), SubjectID: fmt.Sprint("cust-", i%2)}
}

// TestLargeBatchMatchesSingleCalls: a batch large enough to be worked on
// by several goroutines gives every item the result a call of its own
// gives (same token for the deterministic modes, same error code), and
// its tokens resolve in one large detokenize batch.
func TestLargeBatchMatchesSingleCalls(t *testing.T) {
	h := start(t)
	c := h.Client(checkout)
	ctx := context.Background()
	items := make([]client.TokenizeItem, largeBatch)
	for i := range items {
		items[i] = mixedItem(i)
	}
	got, err := c.TokenizeBatch(ctx, items)
	if err != nil {
		t.Fatalf("TokenizeBatch(%d items) error = %v", len(items), err)
	}
	for i, it := range items {
		one, err := c.TokenizeBatch(ctx, items[i:i+1])
		if err != nil {
			t.Fatalf("TokenizeBatch(item %d alone) error = %v", i, err)
		}
		if status.Code(got[i].Err) != status.Code(one[0].Err) {
			t.Errorf("item %d (%s) in the batch: error %v, alone: %v", i, it.Class, got[i].Err, one[0].Err)
		}
		switch it.Class {
		case "account_number", "member_number", "card_last4", "email_pseudonym", "email":
			if got[i].Token != one[0].Token {
				t.Errorf("item %d (%s): batch token %q, alone %q; want equal", i, it.Class, got[i].Token, one[0].Token)
			}
		}
	}
	var det []client.DetokenizeItem
	var want []string
	for i, it := range items {
		switch it.Class {
		case "account_number", "member_number", "card_number", "email":
			if got[i].Err == nil {
				det = append(det, client.DetokenizeItem{Class: it.Class, Token: got[i].Token, SubjectID: it.SubjectID})
				want = append(want, string(it.Value))
			}
		}
	}
	// A malformed token and one of a class checkout may not read, among
	// the good ones: each fails alone.
	det = append(det, client.DetokenizeItem{Class: "card_number", Token: "pvt_bogus"}, client.DetokenizeItem{Class: "ssn", Token: got[6].Token})
	want = append(want, "", "")
	res, err := c.DetokenizeBatch(ctx, "payment", det)
	if err != nil {
		t.Fatalf("DetokenizeBatch(%d items) error = %v", len(det), err)
	}
	if n := len(res); status.Code(res[n-2].Err) != codes.InvalidArgument || status.Code(res[n-1].Err) != codes.PermissionDenied {
		t.Errorf("DetokenizeBatch(malformed, not granted) errors = %v, %v; want InvalidArgument, PermissionDenied", res[n-2].Err, res[n-1].Err)
	}
	for k, r := range res[:len(res)-2] {
		if det[k].Class == "email" {
			continue // covered for consent by TestLargeBatchConsentPerSubject
		}
		if r.Err != nil || string(r.Value) != want[k] {
			t.Errorf("DetokenizeBatch item %d (%s) = %q, %v; want %q", k, det[k].Class, r.Value, r.Err, want[k])
		}
	}
}

// TestLargeBatchConsentPerSubject: in a large detokenize batch for a
// purpose that requires consent, each subject's items get that subject's
// answer, however the items are split over goroutines and cached.
func TestLargeBatchConsentPerSubject(t *testing.T) {
	h := start(t)
	c := h.Client(checkout)
	ctx := context.Background()
	items := make([]client.TokenizeItem, largeBatch)
	for i := range items {
		items[i] = client.TokenizeItem{Class: "email", Value: fmt.Appendf(nil, "c%d@example.com", i), SubjectID: fmt.Sprint("subj-", i%3)}
	}
	toks, err := c.TokenizeBatch(ctx, items)
	if err != nil {
		t.Fatalf("TokenizeBatch error = %v", err)
	}
	if _, err := h.Client(dpo).SetConsent(ctx, "subj-1", "marketing", "consent", time.Time{}); err != nil {
		t.Fatalf("SetConsent(subj-1) error = %v", err)
	}
	det := make([]client.DetokenizeItem, len(toks))
	for i, r := range toks {
		if r.Err != nil {
			t.Fatalf("TokenizeBatch item %d error = %v", i, r.Err)
		}
		det[i] = client.DetokenizeItem{Class: "email", Token: r.Token}
	}
	res, err := c.DetokenizeBatch(ctx, "marketing", det)
	if err != nil {
		t.Fatalf("DetokenizeBatch error = %v", err)
	}
	for i, r := range res {
		consented := i%3 == 1
		switch {
		case consented && (r.Err != nil || string(r.Value) != string(items[i].Value)):
			t.Errorf("item %d (consented subject) = %q, %v; want the value", i, r.Value, r.Err)
		case !consented && status.Code(r.Err) != codes.PermissionDenied:
			t.Errorf("item %d (no consent) error = %v, want PermissionDenied (consent required)", i, r.Err)
		}
	}
}
