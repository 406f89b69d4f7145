package core_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/tokenizer"
	"github.com/privacyvault/privacyvault/tokenizer/format"
)

// mixedService has a random, a deterministic and an fpe class, and a
// caller allowed to read all three in plain.
func mixedService(t *testing.T, a *memAuditor, fps core.Fingerprinter) *core.Service {
	t.Helper()
	st := tempStore(t)
	keys := tempKeys(t)
	digits, err := format.New(format.Spec{Name: "digits"})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := core.New(context.Background(), core.Config{
		Classes: []core.ClassSpec{
			{Name: "card", Mode: tokenizer.Random},
			{Name: "email", Mode: tokenizer.Deterministic},
			{Name: "acct", Mode: tokenizer.FPE, Format: digits},
		},
		Store:         st,
		Keys:          keys,
		Policy:        mustPolicy(t, policy.Spec{Grants: []policy.Grant{{Identity: "app", Purpose: "payment", Class: "*", Reveal: policy.Plain}}}),
		Auditor:       a,
		Fingerprints:  fps,
		MaxValueBytes: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc
}

// TestLargeDetokenizeAuditsAsSingleCalls: a detokenize call large enough
// to be worked on across the cores (fpe tokens resolved in parallel,
// fingerprints computed while the records are read) returns and audits
// every item as a call of its own does — valid tokens of each mode, a
// token in upper case (fingerprinted under its canonical spelling), a
// forged one, an unknown class, an empty token.
func TestLargeDetokenizeAuditsAsSingleCalls(t *testing.T) {
	for _, fp := range fingerprinters(t) {
		t.Run(fmt.Sprintf("%T", fp), func(t *testing.T) { testLargeDetokenizeAudits(t, fp) })
	}
}

// fingerprinters returns the test fingerprinter and the real one, whose
// batches spell their fingerprints in one allocation (audit.TokenSet).
func fingerprinters(t *testing.T) []core.Fingerprinter {
	keyed, err := audit.NewFingerprinter([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return []core.Fingerprinter{testFingerprints{}, keyed}
}

func testLargeDetokenizeAudits(t *testing.T, fp core.Fingerprinter) {
	a := &memAuditor{}
	svc := mixedService(t, a, fp)
	ctx := context.Background()
	const n = 300
	values := make([]core.TokenizeItem, n)
	for i := range values {
		switch i % 3 {
		case 0:
			values[i] = core.TokenizeItem{Class: "card", Value: fmt.Appendf(nil, "card-%d", i)}
		case 1:
			values[i] = core.TokenizeItem{Class: "email", Value: fmt.Appendf(nil, "u%d@example.com", i)}
		default:
			values[i] = core.TokenizeItem{Class: "acct", Value: fmt.Appendf(nil, "%012d", i*7919)}
		}
	}
	toks, err := svc.Tokenize(ctx, "app", values)
	if err != nil {
		t.Fatalf("Tokenize(%d items) error = %v", n, err)
	}
	items := make([]core.DetokenizeItem, n)
	for i, r := range toks {
		if r.Err != nil {
			t.Fatalf("Tokenize()[%d] error = %v", i, r.Err)
		}
		items[i] = core.DetokenizeItem{Class: values[i].Class, Token: r.Token}
		switch i % 50 {
		case 3:
			items[i].Token = strings.ToUpper(r.Token) // refused, audited canonically
		case 6:
			items[i].Token = "pvt_" + strings.Repeat("a", 36) // forged
		case 9:
			items[i].Class = "no_such_class"
		case 12:
			items[i].Token = ""
		}
	}
	a.events = nil
	got, err := svc.Detokenize(ctx, "app", "payment", items)
	if err != nil {
		t.Fatalf("Detokenize(%d items) error = %v", n, err)
	}
	var batchFPs []string
	for _, e := range a.events {
		batchFPs = append(batchFPs, e.Tokens...)
	}
	var singleFPs []string
	for i, it := range items {
		a.events = nil
		one, err := svc.Detokenize(ctx, "app", "payment", []core.DetokenizeItem{it})
		if err != nil {
			t.Fatalf("Detokenize(item %d alone) error = %v", i, err)
		}
		if string(one[0].Value) != string(got[i].Value) || (one[0].Err == nil) != (got[i].Err == nil) {
			t.Errorf("Detokenize item %d in the batch = %q, %v; alone %q, %v", i, got[i].Value, got[i].Err, one[0].Value, one[0].Err)
		}
		if got[i].Err == nil && string(got[i].Value) != string(values[i].Value) {
			t.Errorf("Detokenize item %d = %q, want %q", i, got[i].Value, values[i].Value)
		}
		for _, e := range a.events {
			if e.Op == audit.OpDetokenize {
				singleFPs = append(singleFPs, e.Tokens...)
			}
		}
	}
	// Events group items by class, so compare the fingerprints as sets.
	slices.Sort(batchFPs)
	slices.Sort(singleFPs)
	if !slices.Equal(batchFPs, singleFPs) {
		t.Errorf("batch audited %d token fingerprints, single calls %d; they differ", len(batchFPs), len(singleFPs))
	}
}

// TestLargeTokenizeAuditsEveryToken: a tokenize call large enough to be
// worked on across the cores audits one fingerprint per token, each the
// Fingerprinter's own for that token, whichever pass computed it (fpe
// with its token, vaulted once the store decided, the rest afterwards).
func TestLargeTokenizeAuditsEveryToken(t *testing.T) {
	for _, fp := range fingerprinters(t) {
		t.Run(fmt.Sprintf("%T", fp), func(t *testing.T) {
			a := &memAuditor{}
			svc := mixedService(t, a, fp)
			const n = 400
			items := make([]core.TokenizeItem, n)
			for i := range items {
				switch i % 4 {
				case 0:
					items[i] = core.TokenizeItem{Class: "card", Value: fmt.Appendf(nil, "card-%d", i)}
				case 1:
					items[i] = core.TokenizeItem{Class: "email", Value: fmt.Appendf(nil, "u%d@example.com", i)}
				case 2:
					items[i] = core.TokenizeItem{Class: "acct", Value: fmt.Appendf(nil, "%012d", i*7919)}
				default:
					items[i] = core.TokenizeItem{Class: "acct", Value: []byte("not digits")} // refused
				}
			}
			res, err := svc.Tokenize(context.Background(), "app", items)
			if err != nil {
				t.Fatalf("Tokenize(%d items) error = %v", n, err)
			}
			var want []string
			for i, r := range res {
				if (r.Err == nil) != (i%4 != 3) {
					t.Fatalf("Tokenize()[%d] = %q, %v; want an error only for the values that are not digits", i, r.Token, r.Err)
				}
				if r.Err == nil {
					want = append(want, fp.Token(items[i].Class, r.Token))
				}
			}
			var got []string
			for _, e := range a.events {
				got = append(got, e.Tokens...)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("Tokenize audited %d token fingerprints, want %d, one per token: %q, want %q", len(got), len(want), got, want)
			}
		})
	}
}

// TestLargeVaultedTokenizeRecordsAtTheirItems: a large call whose items
// are all vaulted records prepared across the cores hands them to the
// store as prepared; with one item left to the sequential pass (an
// unknown class) they are gathered from their items. Either way each
// token detokenizes to its own item's value and every token is distinct.
func TestLargeVaultedTokenizeRecordsAtTheirItems(t *testing.T) {
	vaulted := func(i int) string { return []string{"card", "email"}[i%2] }
	tests := []struct {
		name  string
		class func(i int) string // item i's class
	}{
		{"all staged", vaulted},
		{"one item left to the sequential pass", func(i int) string {
			return map[bool]string{true: "nope", false: vaulted(i)}[i == 137]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := mixedService(t, &memAuditor{}, testFingerprints{})
			const n = 400
			items := make([]core.TokenizeItem, n)
			for i := range items {
				items[i] = core.TokenizeItem{Class: tt.class(i), Value: fmt.Appendf(nil, "value-%d", i)}
			}
			res, err := svc.Tokenize(context.Background(), "app", items)
			if err != nil {
				t.Fatalf("Tokenize(%d items) error = %v", n, err)
			}
			var ditems []core.DetokenizeItem
			var want []string
			seen := map[string]bool{}
			for i, r := range res {
				if (r.Err != nil) != (items[i].Class == "nope") {
					t.Fatalf("Tokenize()[%d] = %q, %v; want an error only for the unknown class", i, r.Token, r.Err)
				}
				if r.Err != nil {
					continue
				}
				if seen[r.Token] {
					t.Fatalf("Tokenize()[%d] = %q, a token already issued to another item", i, r.Token)
				}
				seen[r.Token] = true
				ditems = append(ditems, core.DetokenizeItem{Class: items[i].Class, Token: r.Token})
				want = append(want, string(items[i].Value))
			}
			got, err := svc.Detokenize(context.Background(), "app", "payment", ditems)
			if err != nil {
				t.Fatalf("Detokenize() error = %v", err)
			}
			if len(got) != len(want) || len(want) < n-1 {
				t.Fatalf("Detokenize() = %d results for %d tokens, want %d (at least %d)", len(got), len(ditems), len(want), n-1)
			}
			for j, g := range got {
				if g.Err != nil || string(g.Value) != want[j] {
					t.Errorf("Detokenize(token of %q) = %q, %v, want %q", want[j], g.Value, g.Err, want[j])
				}
			}
		})
	}
}
