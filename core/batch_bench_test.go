package core_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/internal/cputime"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/tokenizer"
	"github.com/privacyvault/privacyvault/tokenizer/format"
)

// mapStore keeps records in a map: the core benchmarks measure the data
// plane's own work per batch, without a store's.
type mapStore struct {
	core.Store // every other method: not called
	mu         sync.Mutex
	recs       map[string]store.Record
	keep       bool // keep inserted records (else the map would grow for ever)
}

func (s *mapStore) InsertStaged(_ context.Context, recs []store.Record) ([]store.Outcome, func() error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]store.Outcome, len(recs))
	for i, r := range recs {
		if s.keep {
			s.recs[r.Class+string(r.ID)] = r
		}
		out[i] = store.Outcome{Status: store.Inserted, ID: r.ID}
	}
	return out, func() error { return nil }, nil
}

func (s *mapStore) GetMany(_ context.Context, refs []store.Ref) ([]store.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]store.Record, len(refs))
	for i, r := range refs {
		out[i] = s.recs[r.Class+string(r.ID)]
	}
	return out, nil
}

// discardAuditor accepts every event.
type discardAuditor struct{}

func (discardAuditor) Record(context.Context, core.AuditEvent) error { return nil }

func benchService(b *testing.B, st *mapStore) *core.Service {
	keys := tempKeys(b)
	fps, err := audit.NewFingerprinter(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	digits, err := format.New(format.Spec{Name: "digits"})
	if err != nil {
		b.Fatal(err)
	}
	p, err := policy.New(policy.Spec{Grants: []policy.Grant{{Identity: "app", Purpose: "bench", Class: "*", Reveal: policy.Plain}}})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := core.New(context.Background(), core.Config{
		Classes: []core.ClassSpec{
			{Name: "rnd", Mode: tokenizer.Random},
			{Name: "det", Mode: tokenizer.Deterministic},
			{Name: "fpe", Mode: tokenizer.FPE, Format: digits},
		},
		Store:         st,
		Keys:          keys,
		Policy:        p,
		Auditor:       discardAuditor{},
		Fingerprints:  fps,
		MaxValueBytes: 1024,
	})
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

func benchItems(class string, n int) []core.TokenizeItem {
	items := make([]core.TokenizeItem, n)
	for i := range items {
		v := fmt.Appendf(nil, "bench-value-%d", i)
		if class == "fpe" {
			v = fmt.Appendf(nil, "%016d", i*7919)
		}
		items[i] = core.TokenizeItem{Class: class, Value: v}
	}
	return items
}

// The core batch benchmarks: the data plane's CPU per batch of 1,000 —
// checks, crypto, audit fingerprints and event — with a map for a store
// and an auditor that writes nothing (server/batch_bench_test.go has the
// whole path: gRPC, Badger, the audit log and its fsync).
func BenchmarkCoreTokenizeFPE(b *testing.B)           { benchCoreTokenize(b, "fpe") }
func BenchmarkCoreTokenizeRandom(b *testing.B)        { benchCoreTokenize(b, "rnd") }
func BenchmarkCoreTokenizeDeterministic(b *testing.B) { benchCoreTokenize(b, "det") }
func BenchmarkCoreDetokenizeFPE(b *testing.B)         { benchCoreDetokenize(b, "fpe") }
func BenchmarkCoreDetokenizeRandom(b *testing.B)      { benchCoreDetokenize(b, "rnd") }

func benchCoreTokenize(b *testing.B, class string) {
	svc := benchService(b, &mapStore{})
	items := benchItems(class, 1000)
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		res, err := svc.Tokenize(context.Background(), "app", items)
		if err != nil || res[0].Err != nil {
			b.Fatalf("Tokenize() = %v, %v", res[0].Err, err)
		}
	}
	reportCPU(b, cpu)
}

// reportCPU reports the process CPU time per batch since cpu.
func reportCPU(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
}

func benchCoreDetokenize(b *testing.B, class string) {
	st := &mapStore{recs: map[string]store.Record{}, keep: true}
	svc := benchService(b, st)
	res, err := svc.Tokenize(context.Background(), "app", benchItems(class, 1000))
	if err != nil {
		b.Fatal(err)
	}
	st.keep = false
	items := make([]core.DetokenizeItem, len(res))
	for i, r := range res {
		items[i] = core.DetokenizeItem{Class: class, Token: r.Token}
	}
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		out, err := svc.Detokenize(context.Background(), "app", "bench", items)
		if err != nil || out[0].Err != nil {
			b.Fatalf("Detokenize() = %v, %v", out[0].Err, err)
		}
	}
	reportCPU(b, cpu)
}
