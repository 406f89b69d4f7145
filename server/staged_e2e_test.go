package server_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// TestUnaryTokenizeCommitsWithEvent: small tokenize calls from concurrent
// callers — random and deterministic classes, one with an invalid item —
// while others detokenize, through the gRPC API. With the Badger store and
// the audit log file, each call's records and event commit in one store
// transaction on the audit writer. Every call has its event in the log
// (the mixed one as partial), the chain verifies, every token reveals its
// value, and all of it holds again after a restart.
func TestUnaryTokenizeCommitsWithEvent(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	app := h.Client(checkout)
	seed := tokenize(t, app, "card_number", "4111 1111 1111 1111")
	const callers, calls = 8, 12
	type issued struct{ class, value, token string }
	var (
		mu     sync.Mutex
		tokens []issued
		wg     sync.WaitGroup
	)
	for w := range callers {
		wg.Go(func() {
			for i := range calls {
				class, value := "card_number", luhnCard(w*calls+i)
				if i%2 == 1 {
					class, value = "email", fmt.Sprintf("staged-%d-%d@example.com", w, i)
				}
				if w%2 == 1 && i%3 == 0 {
					got, err := app.Detokenize(context.Background(), "payment", "card_number", seed)
					if err != nil || string(got.Value) != "4111 1111 1111 1111" {
						t.Errorf("Detokenize(seed) = %q, %v", got.Value, err)
					}
				}
				tok, err := app.Tokenize(context.Background(), class, []byte(value))
				if err != nil {
					t.Errorf("Tokenize(%s) error = %v", class, err)
					return
				}
				mu.Lock()
				tokens = append(tokens, issued{class, value, tok})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	mixed, err := app.TokenizeBatch(context.Background(), []client.TokenizeItem{
		{Class: "card_number", Value: []byte(luhnCard(999))},
		{Class: "card_number", Value: []byte("not a card")},
	})
	if err != nil || mixed[0].Err != nil || mixed[1].Err == nil {
		t.Fatalf("TokenizeBatch(valid, invalid) = %v, %v; want a token and an item error", mixed, err)
	}
	tokens = append(tokens, issued{"card_number", luhnCard(999), mixed[0].Token})
	if t.Failed() {
		return
	}
	check := func(when string) {
		t.Helper()
		for _, it := range tokens {
			got, err := app.Detokenize(context.Background(), "payment", it.class, it.token)
			if err != nil || string(got.Value) != it.value {
				t.Errorf("%s: Detokenize(%s token of %q) = %q, %v", when, it.class, it.value, got.Value, err)
			}
		}
		r, err := h.Client(ops).VerifyAudit(context.Background())
		if err != nil || !r.GetOk() {
			t.Fatalf("%s: VerifyAudit() = %v, %v; want ok", when, r, err)
		}
		log, err := os.ReadFile(auditPath(dir))
		if err != nil {
			t.Fatal(err)
		}
		// One event per call: one class and no subject each.
		if got, want := bytes.Count(log, []byte(`"op":"tokenize"`)), 1+callers*calls+1; got != want {
			t.Errorf("%s: tokenize events in audit.log = %d, want %d (one per call)", when, got, want)
		}
		if got := bytes.Count(log, []byte(`"op":"tokenize","class":"card_number","count":2,"decision":"partial"`)); got != 1 {
			t.Errorf("%s: partial tokenize events = %d, want 1 (the mixed call)", when, got)
		}
	}
	check("running")
	h.Stop()
	h = servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	app = h.Client(checkout)
	check("after a restart")
}

// TestUnaryTokenizeBurstOfLargeCalls: concurrent tokenize calls of 8
// values of 8,000 bytes each (just under the 64 KiB a staged call may
// carry), through the gRPC API. Calls the audit writer takes together
// outgrow one Badger transaction: it splits them, so every call succeeds,
// each has its one event, and the chain verifies.
func TestUnaryTokenizeBurstOfLargeCalls(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	app := h.Client(checkout)
	const callers, calls, items = 24, 2, 8
	var wg sync.WaitGroup
	for w := range callers {
		wg.Go(func() {
			for i := range calls {
				batch := make([]client.TokenizeItem, items)
				for k := range batch {
					batch[k] = client.TokenizeItem{Class: "notes", Value: bytes.Repeat([]byte{byte('a' + (w+i+k)%26)}, 8000)}
				}
				res, err := app.TokenizeBatch(context.Background(), batch)
				if err != nil {
					t.Errorf("TokenizeBatch(caller %d, call %d) error = %v", w, i, err)
					return
				}
				for k, r := range res {
					if r.Err != nil || r.Token == "" {
						t.Errorf("TokenizeBatch(caller %d, call %d)[%d] = %q, %v; want a token", w, i, k, r.Token, r.Err)
					}
				}
			}
		})
	}
	wg.Wait()
	r, err := h.Client(ops).VerifyAudit(context.Background())
	if err != nil || !r.GetOk() {
		t.Fatalf("VerifyAudit() = %v, %v; want ok", r, err)
	}
	log, err := os.ReadFile(auditPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := bytes.Count(log, []byte(`"op":"tokenize","class":"notes","count":8,"decision":"allow"`)), callers*calls; got != want {
		t.Errorf("tokenize events of 8 notes in audit.log = %d, want %d (one per call)", got, want)
	}
}
