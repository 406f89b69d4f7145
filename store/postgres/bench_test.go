package postgres_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/internal/pgtest"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/store/postgres"
)

func randomRecords(n int, deterministic bool) []store.Record {
	recs := make([]store.Record, n)
	for i := range recs {
		id, ct := make([]byte, 16), make([]byte, 60)
		rand.Read(id)
		rand.Read(ct)
		recs[i] = store.Record{Class: "bench", ID: id, KeyVersion: 1, Ciphertext: ct, CreatedAt: time.Now()}
		if deterministic {
			recs[i].Index = make([]byte, 32)
			rand.Read(recs[i].Index)
		}
	}
	return recs
}

func benchInsert(b *testing.B, deterministic bool) {
	s, err := postgres.Open(context.Background(), postgres.Options{DSN: pgtest.New(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		recs := randomRecords(1000, deterministic)
		b.StartTimer()
		if _, err := s.Insert(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "records/s")
}

// One statement per batch of 1,000: random (no index) and deterministic.
func BenchmarkInsertBatch1000Random(b *testing.B)        { benchInsert(b, false) }
func BenchmarkInsertBatch1000Deterministic(b *testing.B) { benchInsert(b, true) }

// One query per batch of 1,000 refs.
func BenchmarkGetMany1000(b *testing.B) {
	s, err := postgres.Open(context.Background(), postgres.Options{DSN: pgtest.New(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	recs := randomRecords(1000, false)
	if _, err := s.Insert(context.Background(), recs); err != nil {
		b.Fatal(err)
	}
	refs := make([]store.Ref, len(recs))
	for i, r := range recs {
		refs[i] = store.Ref{Class: r.Class, ID: r.ID}
	}
	b.ResetTimer()
	for range b.N {
		if _, err := s.GetMany(context.Background(), refs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "records/s")
}

// Unary inserts from 8 goroutines at once: the group commit's case.
func BenchmarkInsertUnary8(b *testing.B) {
	s, err := postgres.Open(context.Background(), postgres.Options{DSN: pgtest.New(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.SetParallelism(4) // 8 goroutines on 2 CPUs
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Insert(context.Background(), randomRecords(1, false)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
