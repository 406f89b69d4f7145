package core_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// recObserver records what core reports.
type recObserver struct {
	mu        sync.Mutex
	items     map[core.Outcome]int
	refreshes []error
}

func (o *recObserver) Items(oc core.Outcome, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.items[oc] += n
}

func (o *recObserver) Refresh(ctx context.Context) (context.Context, func(error)) {
	return ctx, func(err error) {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.refreshes = append(o.refreshes, err)
	}
}

// TestObserver: each call reports its items by outcome, with declared
// names only; refreshes report their result; KeyHealth reads the cache.
func TestObserver(t *testing.T) {
	bs := tempStore(t)
	keys := tempKeys(t)
	obs := &recObserver{items: map[core.Outcome]int{}}
	pol := mustPolicy(t, policy.Spec{
		Purposes: []policy.Purpose{{Name: "payment"}, {Name: "support"}},
		Grants: []policy.Grant{
			{Identity: "app", Purpose: "payment", Class: "card", Reveal: policy.Plain},
			{Identity: "app", Purpose: "support", Class: "card", Reveal: policy.Masked},
			{Identity: "app", Purpose: "payment", Class: "email", Reveal: policy.Plain},
		},
	})
	svc, err := core.New(context.Background(), core.Config{
		Classes: []core.ClassSpec{{Name: "card", Mode: tokenizer.Random}, {Name: "email", Mode: tokenizer.Deterministic}},
		Store:   bs, Keys: keys, Policy: pol, Auditor: &memAuditor{}, Fingerprints: testFingerprints{},
		MaxValueBytes: 1024, Observer: obs,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := svc.Tokenize(ctx, "app", []core.TokenizeItem{
		{Class: "card", Value: []byte("4111111111111111")},
		{Class: "card", Value: []byte("5500005555555559")},
		{Class: "secret-value", Value: []byte("x")},
		{Class: "email", Value: []byte("")},
		// A run of one outcome after another class's: counted on the
		// entry it matches, not on the latest.
		{Class: "email", Value: []byte("b@example.com")},
		{Class: "card", Value: []byte("4000056655665556")},
		{Class: "card", Value: []byte("6011000990139424")},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := res[0].Token
	if _, err := svc.Lookup(ctx, "app", []core.LookupItem{{Class: "email", Value: []byte("a@example.com")}}); err != nil {
		t.Fatal(err)
	}
	for _, purpose := range []string{"payment", "support", "a-token-as-purpose", "payment"} {
		if _, err := svc.Detokenize(ctx, "app", purpose, []core.DetokenizeItem{{Class: "card", Token: tok}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Detokenize(ctx, "other", "payment", []core.DetokenizeItem{{Class: "card", Token: tok}, {Class: "card", Token: "pvt_bogus"}}); err != nil {
		t.Fatal(err)
	}
	// Runs of one outcome, broken by another: each item counted on its
	// own outcome's entry.
	if _, err := svc.Detokenize(ctx, "app", "payment", []core.DetokenizeItem{
		{Class: "card", Token: tok}, {Class: "card", Token: res[1].Token}, {Class: "email", Token: res[4].Token},
		{Class: "card", Token: res[5].Token}, {Class: "card", Token: "pvt_bogus"}, {Class: "card", Token: tok},
	}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Refresh(ctx); err != nil {
		t.Fatal(err)
	}

	want := map[core.Outcome]int{
		{Op: "tokenize", Class: "card", Mode: "random", Result: "ok"}:                                                  4,
		{Op: "tokenize", Class: "email", Mode: "deterministic", Result: "ok"}:                                          1,
		{Op: "tokenize", Class: "(unknown)", Result: "error", Reason: "invalid"}:                                       1,
		{Op: "tokenize", Class: "email", Mode: "deterministic", Result: "error", Reason: "invalid"}:                    1,
		{Op: "lookup", Class: "email", Mode: "deterministic", Result: "error", Reason: "not_found"}:                    1,
		{Op: "detokenize", Class: "card", Mode: "random", Purpose: "payment", Result: "ok", Reason: "plain"}:           6,
		{Op: "detokenize", Class: "card", Mode: "random", Purpose: "payment", Result: "error", Reason: "invalid"}:      1,
		{Op: "detokenize", Class: "email", Mode: "deterministic", Purpose: "payment", Result: "ok", Reason: "plain"}:   1,
		{Op: "detokenize", Class: "card", Mode: "random", Purpose: "support", Result: "ok", Reason: "masked"}:          1,
		{Op: "detokenize", Class: "card", Mode: "random", Purpose: "(undeclared)", Result: "denied", Reason: "policy"}: 1,
		{Op: "detokenize", Class: "card", Mode: "random", Purpose: "payment", Result: "denied", Reason: "policy"}:      2,
	}
	for o, n := range want {
		if got := obs.items[o]; got != n {
			t.Errorf("items[%+v] = %d, want %d", o, got, n)
		}
	}
	if len(obs.items) != len(want) {
		t.Errorf("observer saw %d outcomes, want %d: %v", len(obs.items), len(want), obs.items)
	}
	if len(obs.refreshes) != 2 || slices.ContainsFunc(obs.refreshes, func(e error) bool { return e != nil }) {
		t.Errorf("refreshes = %v, want two successful (start-up and explicit)", obs.refreshes)
	}
	h := svc.KeyHealth()
	if h.LastRefresh.IsZero() || len(h.Classes) != 2 || h.Classes[0].Class != "card" || h.Classes[0].Versions != 1 || h.Classes[0].Current != 1 {
		t.Errorf("KeyHealth() = %+v, want both classes with one version, refreshed", h)
	}
}
