package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/internal/cputime"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// benchBatchConfig mirrors tools/bench's sidecar: one class per measured
// mode and one caller allowed to see everything.
const benchBatchConfig = `server:
  max_batch: 10000
keys:
  provider: dev
classes:
  - name: rnd
    mode: random
  - name: det
    mode: deterministic
  - name: fpe
    mode: fpe
    format: {name: digits}
callers:
  - identity: bench
    token: bench-token-0000000000000001
policy:
  purposes:
    - name: bench
  grants:
    - identity: bench
      purpose: bench
      class: "*"
      reveal: plain
`

const batchSize = 1000

// The batch benchmarks run a real in-process server (Badger store, audit
// log with its fsync, gRPC over loopback) and its client: what one batch
// of 1,000 costs end to end. make bench measures the same against Vault
// Transit in separate processes.
func BenchmarkBatchTokenizeRandom(b *testing.B)        { benchTokenize(b, "rnd") }
func BenchmarkBatchTokenizeDeterministic(b *testing.B) { benchTokenize(b, "det") }
func BenchmarkBatchTokenizeFPE(b *testing.B)           { benchTokenize(b, "fpe") }
func BenchmarkBatchDetokenizeRandom(b *testing.B)      { benchDetokenize(b, "rnd") }
func BenchmarkBatchDetokenizeFPE(b *testing.B)         { benchDetokenize(b, "fpe") }

var benchSeq int

func batchItems(class string) []client.TokenizeItem {
	items := make([]client.TokenizeItem, batchSize)
	for i := range items {
		benchSeq++
		v := fmt.Sprintf("bench-value-%d", benchSeq)
		if class == "fpe" {
			v = fmt.Sprintf("%016d", benchSeq*7919%10_000_000_000_000_000)
		}
		items[i] = client.TokenizeItem{Class: class, Value: []byte(v)}
	}
	return items
}

func benchClient(b *testing.B) *client.Client {
	h := servertest.Start(b, servertest.Options{Config: []byte(benchBatchConfig)})
	return h.Client("bench-token-0000000000000001")
}

func tokenizeAll(b *testing.B, c *client.Client, items []client.TokenizeItem) []string {
	res, err := c.TokenizeBatch(context.Background(), items)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]string, len(res))
	for i, r := range res {
		if r.Err != nil {
			b.Fatalf("TokenizeBatch item %d: %v", i, r.Err)
		}
		out[i] = r.Token
	}
	return out
}

func benchTokenize(b *testing.B, class string) {
	c := benchClient(b)
	b.ReportAllocs()
	var cpu time.Duration // of the calls, not of making their items
	for b.Loop() {
		b.StopTimer()
		items := batchItems(class)
		b.StartTimer()
		start := cputime.Process()
		tokenizeAll(b, c, items)
		cpu += cputime.Process() - start
	}
	b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "values/s")
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}

func benchDetokenize(b *testing.B, class string) {
	c := benchClient(b)
	toks := tokenizeAll(b, c, batchItems(class))
	items := make([]client.DetokenizeItem, len(toks))
	for i, t := range toks {
		items[i] = client.DetokenizeItem{Class: class, Token: t}
	}
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		res, err := c.DetokenizeBatch(context.Background(), "bench", items)
		if err != nil {
			b.Fatal(err)
		}
		for i, r := range res {
			if r.Err != nil || len(r.Value) == 0 {
				b.Fatalf("DetokenizeBatch item %d: %v", i, r.Err)
			}
		}
	}
	b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "values/s")
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
}
