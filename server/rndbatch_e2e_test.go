package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// TestRandomBatchesAcrossRestart: batches of 1,000 random tokens (each
// one Badger commit, its entries applied in key order) give distinct
// tokens that detokenize to their values, before and after a restart
// (which flushes the memtable into a table, so the reads after it go
// through a table Badger built).
func TestRandomBatchesAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: []byte(benchBatchConfig), DataDir: dir})
	c := h.Client("bench-token-0000000000000001")
	const batches, n = 4, 1000
	values := make([]string, 0, batches*n)
	tokens := make([]string, 0, batches*n)
	for b := range batches {
		items := make([]client.TokenizeItem, n)
		for i := range items {
			v := fmt.Sprintf("value-%d-%04d", b, i)
			if i%10 == 0 {
				v = "same value" // random mode: a new token every time
			}
			items[i] = client.TokenizeItem{Class: "rnd", Value: []byte(v)}
			values = append(values, v)
		}
		res, err := c.TokenizeBatch(context.Background(), items)
		if err != nil {
			t.Fatalf("TokenizeBatch(batch %d) error = %v", b, err)
		}
		for i, r := range res {
			if r.Err != nil {
				t.Fatalf("TokenizeBatch(batch %d)[%d] error = %v", b, i, r.Err)
			}
			tokens = append(tokens, r.Token)
		}
	}
	seen := make(map[string]bool, len(tokens))
	for i, tok := range tokens {
		if seen[tok] {
			t.Fatalf("token %d (value %q) issued twice", i, values[i])
		}
		seen[tok] = true
	}
	check := func(c *client.Client, when string) {
		items := make([]client.DetokenizeItem, len(tokens))
		for i, tok := range tokens {
			items[i] = client.DetokenizeItem{Class: "rnd", Token: tok}
		}
		res, err := c.DetokenizeBatch(context.Background(), "bench", items)
		if err != nil {
			t.Fatalf("%s: DetokenizeBatch() error = %v", when, err)
		}
		for i, r := range res {
			if r.Err != nil || string(r.Value) != values[i] {
				t.Fatalf("%s: DetokenizeBatch()[%d] = %q, %v, want %q", when, i, r.Value, r.Err, values[i])
			}
		}
	}
	check(c, "before restart")
	h.Stop()
	h = servertest.Start(t, servertest.Options{Config: []byte(benchBatchConfig), DataDir: dir})
	check(h.Client("bench-token-0000000000000001"), "after restart")
}
