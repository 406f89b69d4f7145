package badger

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// BenchmarkInsertStaged splits the write path of a batch of 1,000 as a
// tokenize call sees it: decided is how long InsertStaged takes to
// return the outcomes (the committer's serial work, which the call waits
// for), durable how much longer until wait returns (Badger applying the
// transaction, then the WAL sync), which the call overlaps with its
// tokens and audit event. Run in a fresh store, the key filter ready.
func BenchmarkInsertStaged(b *testing.B) {
	for _, det := range []bool{false, true} {
		name := map[bool]string{false: "rnd", true: "det"}[det]
		b.Run(name, func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			<-s.fillDone
			ctx := context.Background()
			batches := make([][]store.Record, b.N)
			for i := range batches {
				batches[i] = benchBatch(name, det, 1000)
			}
			decided, durable := make([]time.Duration, b.N), make([]time.Duration, b.N)
			defer reportCPU(b)()
			b.ResetTimer()
			for i := range b.N {
				t := time.Now()
				_, wait, err := s.InsertStaged(ctx, batches[i])
				if err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				if err := wait(); err != nil {
					b.Fatal(err)
				}
				decided[i], durable[i] = t2.Sub(t), time.Since(t2)
			}
			b.StopTimer()
			for _, m := range []struct {
				unit string
				d    []time.Duration
			}{{"decided-p50-us", decided}, {"durable-p50-us", durable}} {
				slices.Sort(m.d)
				b.ReportMetric(float64(m.d[b.N/2])/1e3, m.unit)
			}
		})
	}
}
