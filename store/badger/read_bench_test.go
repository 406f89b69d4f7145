package badger

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

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
