package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// TestConcurrentDeterministicBatchAndUnary: batch callers (large enough
// to be prepared across the cores) and unary callers tokenize the same
// new deterministic values at once; every value gets one token. After a
// restart (the store's key filter rebuilt by its scan at open) and with
// new values mixed in, the same values get the same tokens again.
func TestConcurrentDeterministicBatchAndUnary(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	c := h.Client(checkout)
	const n, batchers, unaries = 300, 4, 4
	values := make([]string, n)
	for i := range values {
		values[i] = fmt.Sprintf("unique-%03d@example.com", i)
	}
	var mu sync.Mutex
	seen := map[string]map[string]bool{} // value -> tokens
	note := func(v, tok string) {
		mu.Lock()
		defer mu.Unlock()
		if seen[v] == nil {
			seen[v] = map[string]bool{}
		}
		seen[v][tok] = true
	}
	var wg sync.WaitGroup
	for w := range batchers {
		wg.Go(func() {
			items := make([]client.TokenizeItem, n)
			for i := range items { // each caller in its own order
				items[i] = client.TokenizeItem{Class: "email", Value: []byte(values[(i*(2*w+1)+w*37)%n])}
			}
			res, err := c.TokenizeBatch(context.Background(), items)
			if err != nil {
				t.Errorf("TokenizeBatch() error = %v", err)
				return
			}
			for i, r := range res {
				if r.Err != nil {
					t.Errorf("TokenizeBatch()[%d] error = %v", i, r.Err)
					continue
				}
				note(string(items[i].Value), r.Token)
			}
		})
	}
	for w := range unaries {
		wg.Go(func() {
			for i := w; i < n; i += 3 {
				tok, err := c.Tokenize(context.Background(), "email", []byte(values[i]))
				if err != nil {
					t.Errorf("Tokenize(value %d) error = %v", i, err)
					return
				}
				note(values[i], tok)
			}
		})
	}
	wg.Wait()
	want := make(map[string]string, n)
	for _, v := range values {
		if len(seen[v]) != 1 {
			t.Fatalf("value %q got %d distinct tokens, want 1", v, len(seen[v]))
		}
		for tok := range seen[v] {
			want[v] = tok
		}
	}

	h.Stop()
	h = servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	c = h.Client(checkout)
	items := make([]client.TokenizeItem, 0, 2*n)
	for i, v := range values {
		items = append(items, client.TokenizeItem{Class: "email", Value: []byte(v)},
			client.TokenizeItem{Class: "email", Value: []byte(fmt.Sprintf("fresh-%03d@example.com", i))})
	}
	res, err := c.TokenizeBatch(context.Background(), items)
	if err != nil {
		t.Fatalf("TokenizeBatch() after restart error = %v", err)
	}
	fresh := map[string]bool{}
	for i, r := range res {
		v := string(items[i].Value)
		switch {
		case r.Err != nil:
			t.Errorf("TokenizeBatch()[%d] after restart error = %v", i, r.Err)
		case i%2 == 0 && r.Token != want[v]:
			t.Errorf("TokenizeBatch(%q) after restart = %q, want %q as before", v, r.Token, want[v])
		case i%2 == 1:
			fresh[r.Token] = true
		}
	}
	if len(fresh) != n {
		t.Errorf("new values after restart got %d distinct tokens, want %d", len(fresh), n)
	}
	for i := 0; i < n; i += 50 {
		tok, err := c.Tokenize(context.Background(), "email", []byte(values[i]))
		if err != nil || tok != want[values[i]] {
			t.Errorf("Tokenize(value %d) after restart = %q, %v; want %q", i, tok, err, want[values[i]])
		}
	}
}
