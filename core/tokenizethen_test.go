package core_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/tokenizer"
	"github.com/privacyvault/privacyvault/tokenizer/format"
)

// thenAuditor records events; when overlap is set, Record waits for the
// call's then to have run, as it can only if then runs while the event is
// being written; otherwise it notes whether then had already run.
type thenAuditor struct {
	memAuditor
	overlap   bool
	thenDone  chan struct{}
	ranBefore atomic.Bool // then had run when Record was called
}

func (a *thenAuditor) Record(ctx context.Context, e core.AuditEvent) error {
	if a.overlap {
		select {
		case <-a.thenDone:
		case <-time.After(time.Minute): // a deadlock guard, not a timing assertion
			return errors.New("then did not run while the event was being written")
		}
	}
	select {
	case <-a.thenDone:
		a.ranBefore.Store(true)
	default:
	}
	return a.memAuditor.Record(ctx, e)
}

func fpeService(t *testing.T, a core.Auditor) *core.Service {
	t.Helper()
	digits, err := format.New(format.Spec{Name: "digits"})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := core.New(context.Background(), core.Config{
		Classes:       []core.ClassSpec{{Name: "acct", Mode: tokenizer.FPE, Format: digits}},
		Store:         tempStore(t),
		Keys:          tempKeys(t),
		Policy:        mustPolicy(t, policy.Spec{Grants: []policy.Grant{{Identity: "app", Purpose: "payment", Class: "*", Reveal: policy.Plain}}}),
		Auditor:       a,
		Fingerprints:  testFingerprints{},
		MaxValueBytes: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc
}

func acctItems(n int) []core.TokenizeItem {
	items := make([]core.TokenizeItem, n)
	for i := range items {
		items[i] = core.TokenizeItem{Class: "acct", Value: fmt.Appendf(nil, "%016d", i*7919)}
	}
	items[n-1].Value = []byte("not digits") // an item error reaches then too
	return items
}

// TestTokenizeThenBuildsWhileAuditing: a large call runs then with the
// final results while its event is being written (the auditor waits for
// it); a small one only after the event is durable. Either way then runs
// once, with exactly the results TokenizeThen returns.
func TestTokenizeThenBuildsWhileAuditing(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		overlap bool
	}{
		{"large call", 300, true},
		{"small call", 20, false},
	}
	for _, tt := range tests {
		a := &thenAuditor{overlap: tt.overlap, thenDone: make(chan struct{})}
		svc := fpeService(t, a)
		var calls int
		var seen []core.TokenResult
		res, err := svc.TokenizeThen(context.Background(), "app", acctItems(tt.n), func(res []core.TokenResult) {
			calls++
			seen = append([]core.TokenResult(nil), res...)
			close(a.thenDone)
		})
		if err != nil {
			t.Fatalf("%s: TokenizeThen(%d items) error = %v", tt.name, tt.n, err)
		}
		if calls != 1 || len(seen) != len(res) {
			t.Fatalf("%s: then called %d times with %d results; want once with the %d results", tt.name, calls, len(seen), len(res))
		}
		for i := range res {
			if seen[i] != res[i] {
				t.Errorf("%s: then saw result %d = %+v, TokenizeThen returned %+v", tt.name, i, seen[i], res[i])
			}
		}
		if res[0].Token == "" || res[tt.n-1].Err == nil {
			t.Errorf("%s: results = %+v ... %+v; want a token first and an item error last", tt.name, res[0], res[tt.n-1])
		}
		if got := a.ranBefore.Load(); got != tt.overlap {
			t.Errorf("%s: then had run when the event was recorded: %v, want %v", tt.name, got, tt.overlap)
		}
		if len(a.events) != 1 || a.events[0].Count != tt.n {
			t.Errorf("%s: audit events = %+v, want one of %d items", tt.name, a.events, tt.n)
		}
	}
}

// TestTokenizeThenAuditFailed: when the event cannot be written the call
// fails closed, whatever then made meanwhile.
func TestTokenizeThenAuditFailed(t *testing.T) {
	for _, n := range []int{300, 20} {
		a := &memAuditor{fail: true}
		svc := fpeService(t, a)
		res, err := svc.TokenizeThen(context.Background(), "app", acctItems(n), func([]core.TokenResult) {})
		if res != nil || !errors.Is(err, core.ErrAuditFailed) {
			t.Errorf("TokenizeThen(%d items) with a failing audit log = %d results, %v; want none, ErrAuditFailed", n, len(res), err)
		}
	}
}

// TestTokenizeThenPanicReachesCaller: a panic in then, on the goroutine
// that runs it during the sync, is raised on the caller's, where the
// server's recovery interceptor turns it into an error.
func TestTokenizeThenPanicReachesCaller(t *testing.T) {
	svc := fpeService(t, &memAuditor{})
	var got any
	func() {
		defer func() { got = recover() }()
		_, _ = svc.TokenizeThen(context.Background(), "app", acctItems(300), func([]core.TokenResult) { panic("then failed") })
	}()
	if got != "then failed" {
		t.Errorf("TokenizeThen with a panicking then: recovered %v, want %q", got, "then failed")
	}
}

// TestLargeTokenizeObserved: a large call's items, counted while its
// event is written, are reported once it is durable, and not at all when
// the event cannot be written.
func TestLargeTokenizeObserved(t *testing.T) {
	digits, err := format.New(format.Spec{Name: "digits"})
	if err != nil {
		t.Fatal(err)
	}
	obs := &recObserver{items: map[core.Outcome]int{}}
	a := &memAuditor{}
	svc, err := core.New(context.Background(), core.Config{
		Classes: []core.ClassSpec{{Name: "acct", Mode: tokenizer.FPE, Format: digits}},
		Store:   tempStore(t), Keys: tempKeys(t), Policy: mustPolicy(t, policy.Spec{}), Auditor: a,
		Fingerprints: testFingerprints{}, MaxValueBytes: 1024, Observer: obs,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	const n = 300
	if _, err := svc.Tokenize(context.Background(), "app", acctItems(n)); err != nil {
		t.Fatal(err)
	}
	a.fail = true
	if _, err := svc.Tokenize(context.Background(), "app", acctItems(n)); !errors.Is(err, core.ErrAuditFailed) {
		t.Fatalf("Tokenize with a failing audit log = %v, want ErrAuditFailed", err)
	}
	ok := core.Outcome{Op: "tokenize", Class: "acct", Mode: "fpe", Result: "ok"}
	bad := core.Outcome{Op: "tokenize", Class: "acct", Mode: "fpe", Result: "error", Reason: "invalid"}
	if obs.items[ok] != n-1 || obs.items[bad] != 1 || len(obs.items) != 2 {
		t.Errorf("observed %v; want %d ok and 1 invalid, of the audited call only", obs.items, n-1)
	}
}
