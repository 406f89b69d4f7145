package badger

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// The store-side benchmarks of issue 11's batch and scale targets, without
// the gRPC stack: records shaped like the bench's random and deterministic
// tokens (58-byte sealed values), batches of 1,000.
var (
	loadN      = flag.Int("load.n", 200_000, "records BenchmarkLoad inserts")
	loadPre    = flag.Int("load.pre", 200_000, "records in the store the batch benchmarks run against")
	loadKeep   = flag.String("load.dir", "", "directory to keep the prepared store of the batch benchmarks in (reused when it exists)")
	loadLevels = flag.Bool("load.levels", false, "BenchmarkLoad logs the LSM levels after each tenth")
)

func benchRecord(class string, det bool) store.Record {
	r := store.Record{Class: class, ID: make([]byte, 16), KeyVersion: 1, Ciphertext: make([]byte, 58), CreatedAt: time.Now()}
	rand.Read(r.ID)
	rand.Read(r.Ciphertext)
	if det {
		r.Index = make([]byte, 32)
		rand.Read(r.Index)
		store.IndexID(r.ID, r.Index) // as core draws them
	}
	return r
}

func benchBatch(class string, det bool, n int) []store.Record {
	recs := make([]store.Record, n)
	for i := range recs {
		recs[i] = benchRecord(class, det)
	}
	return recs
}

// processUsage returns this process's CPU time and bytes written to disk.
func processUsage(b *testing.B) (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	io, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Fatal(err)
	}
	var wr int64
	for _, line := range strings.Split(string(io), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			wr, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return cpu, wr
}

// BenchmarkLoad inserts -load.n random records in batches of 1,000 from two
// callers, as the bench's scale phase does, and reports the last tenth's
// CPU per record over the first's and the bytes written per tenth.
func BenchmarkLoad(b *testing.B) {
	for range b.N {
		dir := b.TempDir()
		s, err := Open(Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		tenth := *loadN / 10
		var cpus []time.Duration
		var cpuAll time.Duration
		var wrAll int64
		var rates []float64
		var line strings.Builder
		cpu0, wr0 := processUsage(b)
		for range 10 {
			t := time.Now()
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range tenth / 2 / 1000 {
						if _, err := s.Insert(ctx, benchBatch("rnd", false, 1000)); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			cpu, wr := processUsage(b)
			cpus = append(cpus, cpu-cpu0)
			cpuAll += cpu - cpu0
			wrAll += wr - wr0
			rates = append(rates, float64(tenth)/time.Since(t).Seconds())
			fmt.Fprintf(&line, " %.0f/s %.2fs %dMiB |", rates[len(rates)-1], (cpu - cpu0).Seconds(), (wr-wr0)>>20)
			cpu0, wr0 = cpu, wr
			if *loadLevels {
				var lv []string
				for _, l := range s.db.Levels() {
					if l.NumTables > 0 || l.IsBaseLevel {
						lv = append(lv, fmt.Sprintf("L%d:%dt/%dMiB/%dMiB%s", l.Level, l.NumTables, l.Size>>20, l.TargetSize>>20, map[bool]string{true: "*"}[l.IsBaseLevel]))
					}
				}
				b.Logf("levels %v", lv)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		var size int64
		filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				size += fi.Size()
			}
			return nil
		})
		b.Logf("tenths:%s", line.String())
		b.ReportMetric(float64(cpus[9])/float64(cpus[0]), "cpu-last/first")
		b.ReportMetric(rates[9]/rates[0], "rate-last/first")
		b.ReportMetric(float64(size)/float64(*loadN), "B/record")
		b.ReportMetric(cpuAll.Seconds(), "cpu-s")
		if st, err := os.ReadFile("/proc/self/status"); err == nil {
			for _, line := range strings.Split(string(st), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
					b.ReportMetric(float64(kb)/1024, "MiB-peak-RSS")
				}
			}
		}
		b.ReportMetric(float64(wrAll)/(1<<20), "MiB-written")
	}
}

var prepared struct {
	once sync.Once
	dir  string
	err  error
}

// preparedStore returns a directory holding -load.pre random records and
// -load.pre/10 deterministic ones, prepared once.
func preparedStore(b *testing.B) string {
	prepared.once.Do(func() {
		dir := *loadKeep
		if dir == "" {
			dir, prepared.err = os.MkdirTemp("", "pv-bench-store-")
			if prepared.err != nil {
				return
			}
		} else if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err == nil {
			prepared.dir = dir
			return
		}
		s, err := Open(Options{Dir: dir})
		if err != nil {
			prepared.err = err
			return
		}
		ctx := context.Background()
		for i := 0; i < *loadPre; i += 1000 {
			if _, err := s.Insert(ctx, benchBatch("rnd", false, 1000)); err != nil {
				prepared.err = err
				return
			}
			if i%10_000 == 0 {
				if _, err := s.Insert(ctx, benchBatch("det", true, 1000)); err != nil {
					prepared.err = err
					return
				}
			}
		}
		prepared.dir, prepared.err = dir, s.Close()
	})
	if prepared.err != nil {
		b.Fatal(prepared.err)
	}
	return prepared.dir
}

// copyDir copies the prepared store, so that inserting benchmarks start
// from the same state.
func copyDir(b *testing.B, from string) string {
	to := b.TempDir()
	ents, err := os.ReadDir(from)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return to
}

// BenchmarkInsertBatch inserts batches of 1,000 new records into a store
// holding -load.pre records.
func BenchmarkInsertBatch(b *testing.B) {
	for _, det := range []bool{false, true} {
		name, class := "rnd", "rnd"
		if det {
			name, class = "det", "det"
		}
		b.Run(name, func(b *testing.B) {
			s, err := Open(Options{Dir: copyDir(b, preparedStore(b))})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			<-s.fillDone // the key filter answers
			ctx := context.Background()
			batches := make([][]store.Record, b.N)
			for i := range batches {
				batches[i] = benchBatch(class, det, 1000)
			}
			defer reportCPU(b)()
			lat := make([]time.Duration, b.N)
			b.ResetTimer()
			for i := range b.N {
				t := time.Now()
				if _, err := s.Insert(ctx, batches[i]); err != nil {
					b.Fatal(err)
				}
				lat[i] = time.Since(t)
			}
			b.StopTimer()
			slices.Sort(lat)
			p50, p99 := lat[b.N/2], lat[min(b.N-1, b.N*99/100)]
			b.ReportMetric(float64(p50)/1e6, "p50-ms")
			b.ReportMetric(float64(p99)/1e6, "p99-ms")
		})
	}
}

// BenchmarkGetMany reads batches of 1,000 random records of a store
// holding -load.pre records.
func BenchmarkGetMany(b *testing.B) {
	dir := preparedStore(b) // read only
	s, err := Open(Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	all, err := s.Scan(ctx, "rnd", nil, 1<<30)
	if err != nil {
		b.Fatal(err)
	}
	refs := make([]store.Ref, 0, 1000)
	defer reportCPU(b)()
	b.ResetTimer()
	for i := range b.N {
		refs = refs[:0]
		for j := range 1000 {
			r := all[(i*7919+j*104729)%len(all)]
			refs = append(refs, store.Ref{Class: r.Class, ID: r.ID})
		}
		got, err := s.GetMany(ctx, refs)
		if err != nil {
			b.Fatal(err)
		}
		if got[0].ID == nil {
			b.Fatal("GetMany found no record")
		}
	}
}

// reportCPU reports the process's CPU time per op from now until the
// returned function runs: on a machine shared with other work, wall time
// says little.
func reportCPU(b *testing.B) func() {
	cpu0, _ := processUsage(b)
	return func() {
		cpu, _ := processUsage(b)
		b.ReportMetric(float64(cpu-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// TestMain removes the prepared store unless -load.dir asked to keep it.
func TestMain(m *testing.M) {
	code := m.Run()
	if prepared.dir != "" && *loadKeep == "" {
		os.RemoveAll(prepared.dir)
	}
	os.Exit(code)
}
