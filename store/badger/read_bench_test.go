package badger

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bdb "github.com/dgraph-io/badger/v4"
)

var readLive = flag.Bool("read.live", false, "BenchmarkReadMethods loads a fresh store of -load.pre records and reads it without reopening")

var readFlatten = flag.Bool("read.flatten", false, "BenchmarkReadMethods reads again after flattening the tree into one level")

// BenchmarkReadMethods compares ways Badger can read a batch of 1,000
// random stored keys (record keys of a store holding -load.pre records),
// Badger alone: no record decoding.
func BenchmarkReadMethods(b *testing.B) {
	var s *Store
	var err error
	if *readLive {
		// As a serving sidecar holds it: loaded, never closed (memtables
		// and level-0 tables present).
		s, err = Open(Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < *loadPre; i += 1000 {
			if _, err := s.Insert(context.Background(), benchBatch("rnd", false, 1000)); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		s, err = Open(Options{Dir: preparedStore(b)})
		if err != nil {
			b.Fatal(err)
		}
	}
	defer s.Close()
	levels := map[int]int{}
	for _, t := range s.db.Tables() {
		levels[t.Level]++
	}
	b.Logf("tables per level %v", levels)
	all, err := s.Scan(context.Background(), "rnd", nil, 1<<30)
	if err != nil {
		b.Fatal(err)
	}
	keys := make([][]byte, len(all))
	for i, r := range all {
		keys[i] = recordKey(r.Class, r.ID)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	batchOf := func() [][]byte {
		out := make([][]byte, 1000)
		for i := range out {
			out[i] = keys[rng.IntN(len(keys))]
		}
		return out
	}
	get := func(txn *bdb.Txn, ks [][]byte) error {
		for _, k := range ks {
			item, err := txn.Get(k)
			if err != nil {
				return err
			}
			if err := item.Value(func([]byte) error { return nil }); err != nil {
				return err
			}
		}
		return nil
	}
	sorted := func(ks [][]byte) [][]byte {
		ks = slices.Clone(ks)
		slices.SortFunc(ks, bytes.Compare)
		return ks
	}
	methods := []struct {
		name string
		read func(ks [][]byte) error
	}{
		{"get", func(ks [][]byte) error {
			return s.db.View(func(txn *bdb.Txn) error { return get(txn, ks) })
		}},
		{"get-sorted", func(ks [][]byte) error {
			ks = sorted(ks)
			return s.db.View(func(txn *bdb.Txn) error { return get(txn, ks) })
		}},
		{"get-sorted-2txn", func(ks [][]byte) error {
			ks = sorted(ks)
			var wg sync.WaitGroup
			var err2 error
			wg.Go(func() { err2 = s.db.View(func(txn *bdb.Txn) error { return get(txn, ks[500:]) }) })
			err := s.db.View(func(txn *bdb.Txn) error { return get(txn, ks[:500]) })
			wg.Wait()
			return errors.Join(err, err2)
		}},
		{"get-sorted-shared-txn", func(ks [][]byte) error {
			ks = sorted(ks)
			return s.db.View(func(txn *bdb.Txn) error {
				var wg sync.WaitGroup
				var err2 error
				wg.Go(func() { err2 = get(txn, ks[500:]) })
				err := get(txn, ks[:500])
				wg.Wait()
				return errors.Join(err, err2)
			})
		}},
		{"iter-seek", func(ks [][]byte) error {
			ks = sorted(ks)
			return s.db.View(func(txn *bdb.Txn) error {
				it := txn.NewIterator(bdb.IteratorOptions{})
				defer it.Close()
				for _, k := range ks {
					it.Seek(k)
					if !it.Valid() || !bytes.Equal(it.Item().Key(), k) {
						return bdb.ErrKeyNotFound
					}
					if err := it.Item().Value(func([]byte) error { return nil }); err != nil {
						return err
					}
				}
				return nil
			})
		}},
	}
	run := func(prefix string) {
		for _, m := range methods {
			b.Run(prefix+m.name, func(b *testing.B) {
				batches := make([][][]byte, b.N)
				for i := range batches {
					batches[i] = batchOf()
				}
				defer reportCPU(b)()
				b.ResetTimer()
				for i := range b.N {
					if err := m.read(batches[i]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	run("")
	if *readFlatten {
		if err := s.db.Flatten(1); err != nil {
			b.Fatal(err)
		}
		levels := map[int]int{}
		for _, t := range s.db.Tables() {
			levels[t.Level]++
		}
		b.Logf("flattened: tables per level %v", levels)
		run("flat-")
	}
}

// BenchmarkReadOptions measures, on the same -load.pre random keys (16
// B, 90 B values) written by Badger alone with the store's options, the
// CPU of reading batches of 1,000 in key order under option variants:
// as written (level 0 holding every table loading flushed), with level 0
// compacted away, with
// block and index caches, and with Bloom filters and blocks built
// otherwise (written again with those options).
func BenchmarkReadOptions(b *testing.B) {
	type variant struct {
		name  string
		build func(bdb.Options) bdb.Options // applied when writing (nil: the store's)
		read  func(bdb.Options) bdb.Options // applied when reading
	}
	same := func(o bdb.Options) bdb.Options { return o }
	variants := []variant{
		{"as-written", nil, same},
		{"l0-compacted", nil, func(o bdb.Options) bdb.Options {
			return o.WithNumLevelZeroTables(1).WithNumLevelZeroTablesStall(2)
		}},
		{"block-cache-16M-index-cache-8M", nil, func(o bdb.Options) bdb.Options {
			return o.WithBlockCacheSize(16 << 20).WithIndexCacheSize(8 << 20)
		}},
		{"bloom-0.01", func(o bdb.Options) bdb.Options { return o.WithBloomFalsePositive(0.01) }, same},
		{"block-4K", func(o bdb.Options) bdb.Options { return o.WithBlockSize(4 << 10) }, same},
	}
	rng := rand.New(rand.NewPCG(7, 8))
	keys := make([][]byte, *loadPre)
	for i := range keys {
		keys[i] = make([]byte, 16)
		for j := range keys[i] {
			keys[i][j] = byte(rng.Uint32())
		}
	}
	value := make([]byte, 90)
	dirs := map[string]string{}
	write := func(name string, build func(bdb.Options) bdb.Options) string {
		dir := filepath.Join(b.TempDir(), name)
		opts, err := SidecarOptions(dir)
		if err != nil {
			b.Fatal(err)
		}
		// Level 0 keeps what loading flushed (up to the store's stall), so
		// "as-written" reads through several level-0 tables.
		opts = opts.WithNumLevelZeroTables(opts.NumLevelZeroTablesStall - 1)
		if build != nil {
			opts = build(opts)
		}
		db, err := bdb.Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		for lo := 0; lo < len(keys); lo += 1000 {
			txn := db.NewTransaction(true)
			for _, k := range keys[lo:min(lo+1000, len(keys))] {
				if err := txn.Set(k, value); err != nil {
					b.Fatal(err)
				}
			}
			if err := txn.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		return dir
	}
	for _, v := range variants {
		dir := dirs["store"]
		if v.build != nil {
			dir = write(v.name, v.build)
		} else if dir == "" {
			dir = write("store", nil)
			dirs["store"] = dir
		}
		b.Run(v.name, func(b *testing.B) {
			opts, err := SidecarOptions(dir)
			if err != nil {
				b.Fatal(err)
			}
			opts = v.read(opts)
			if v.build != nil {
				opts = v.build(opts)
			}
			db, err := bdb.Open(opts)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			for v.name == "l0-compacted" && db.Levels()[0].NumTables > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			levels := map[int]int{}
			for _, t := range db.Tables() {
				levels[t.Level]++
			}
			b.Logf("tables per level %v", levels)
			batches := make([][][]byte, b.N)
			for i := range batches {
				ks := make([][]byte, 1000)
				for j := range ks {
					ks[j] = keys[rng.IntN(len(keys))]
				}
				slices.SortFunc(ks, bytes.Compare)
				batches[i] = ks
			}
			defer reportCPU(b)()
			b.ResetTimer()
			for i := range b.N {
				err := db.View(func(txn *bdb.Txn) error {
					for _, k := range batches[i] {
						item, err := txn.Get(k)
						if err != nil {
							return err
						}
						if err := item.Value(func([]byte) error { return nil }); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
