package badger

import (
	"bytes"
	"context"
	"testing"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/privacyvault/privacyvault/store"
)

// indexedRecord is a deterministic record of class for index whose ID is
// indexed by the index (store.IndexID).
func indexedRecord(class string, index []byte) store.Record {
	r := rec(class, index, nil)
	store.IndexID(r.ID, r.Index)
	return r
}

// countKeys counts the keys under prefix, every version (delete markers
// too) when all is set.
func countKeys(t *testing.T, s *Store, prefix []byte, all bool) int {
	t.Helper()
	n := 0
	err := s.db.View(func(txn *bdb.Txn) error {
		it := txn.NewIterator(bdb.IteratorOptions{Prefix: prefix, AllVersions: all})
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIndexedRecordsAreOneEntry: records indexed by their ID write no
// index entry; a deterministic record with a random ID (a subject's, or
// one re-drawn after a collision) and a subject's still do, and each is
// found by its index.
func TestIndexedRecordsAreOneEntry(t *testing.T) {
	s := openDir(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	recs := make([]store.Record, 100)
	for i := range recs {
		recs[i] = indexedRecord("det", randomBytes(32))
	}
	random, subject := rec("det", randomBytes(32), nil), rec("det", randomBytes(32), []byte("subj"))
	if _, err := s.Insert(ctx, append(recs, random, subject)); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, []byte{prefixIndex}, false); n != 2 {
		t.Errorf("index entries = %d, want 2 (the random ID's and the subject's only)", n)
	}
	if n := countKeys(t, s, []byte{prefixRecord}, false); n != len(recs)+2 {
		t.Errorf("record entries = %d, want %d", n, len(recs)+2)
	}
	for _, r := range []store.Record{recs[0], recs[99], random, subject} {
		if got, err := s.LookupIndex(ctx, "det", r.Index); err != nil || !bytes.Equal(got.ID, r.ID) {
			t.Errorf("LookupIndex(%x) = %x, %v; want %x", r.Index[:4], got.ID, err, r.ID)
		}
	}
}

// TestIndexedDeleteLeavesNoIndexKey: deleting an indexed record leaves no
// key naming its index, not even a delete marker; deleting a record with
// an index entry deletes that entry.
func TestIndexedDeleteLeavesNoIndexKey(t *testing.T) {
	s := openDir(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	one, two := indexedRecord("det", randomBytes(32)), rec("det", randomBytes(32), nil)
	if _, err := s.Insert(ctx, []store.Record{one, two}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []store.Record{one, two} {
		if err := s.Delete(ctx, r); err != nil {
			t.Fatalf("Delete() = %v", err)
		}
	}
	if n := countKeys(t, s, indexKey("det", one.Index), true); n != 0 {
		t.Errorf("versions of the deleted indexed record's index key = %d, want 0", n)
	}
	if n := countKeys(t, s, []byte{prefixIndex}, false); n != 0 {
		t.Errorf("live index entries after deleting both = %d, want 0", n)
	}
}

// TestIndexedFoundByReadyFilter: with the key filter ready — filled by
// inserts, and rebuilt by the scan at open — an index held by an indexed
// record or by an index entry is existing (the filter holds record keys
// by their prefix).
func TestIndexedFoundByReadyFilter(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir)
	ctx := context.Background()
	<-s.fillDone
	one, two := indexedRecord("det", randomBytes(32)), rec("det", randomBytes(32), nil)
	if _, err := s.Insert(ctx, []store.Record{one, two}); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, r := range []store.Record{one, two} {
			for _, again := range []store.Record{indexedRecord("det", r.Index), rec("det", r.Index, nil)} {
				out, err := s.Insert(ctx, []store.Record{again})
				if err != nil || out[0].Status != store.Existing || !bytes.Equal(out[0].ID, r.ID) {
					t.Errorf("%s: Insert(index of %x again) = %+v, %v; want existing", when, r.ID[:4], out, err)
				}
			}
		}
	}
	check("filled by inserts")
	s = reopen(t, s, dir)
	defer s.Close()
	<-s.fillDone
	check("filled by the scan at open")
}

// TestIndexedFoundAcrossCommits: a batch that outgrows one transaction
// (the committer commits part of it and goes on in a new one) still finds
// an index it wrote in the part committed.
func TestIndexedFoundAcrossCommits(t *testing.T) {
	s := openDir(t, t.TempDir())
	defer s.Close()
	<-s.fillDone
	recs := make([]store.Record, 0, 6001)
	for range 6000 {
		r := indexedRecord("det", randomBytes(32))
		r.Ciphertext = randomBytes(256)
		recs = append(recs, r)
	}
	recs = append(recs, indexedRecord("det", recs[0].Index))
	if int64(len(recs))*300 < s.txnBytes {
		t.Fatalf("%d records fit one transaction (%d bytes): the test commits nothing in between", len(recs), s.txnBytes)
	}
	out, err := s.Insert(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if last := out[len(out)-1]; last.Status != store.Existing || !bytes.Equal(last.ID, recs[0].ID) {
		t.Errorf("Insert(first index again, after a commit) = %v %x, want existing %x", last.Status, last.ID, recs[0].ID)
	}
}

// BenchmarkInsertExisting inserts batches of 1,000 deterministic records
// whose indexes a store of 50,000 such records already holds (a value
// tokenized again): found by a prefix seek when the records are indexed
// by their ID, by the index entry's point read when their IDs are random.
func BenchmarkInsertExisting(b *testing.B) {
	for _, indexed := range []bool{true, false} {
		b.Run(map[bool]string{true: "indexed", false: "entry"}[indexed], func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			<-s.fillDone
			ctx := context.Background()
			make1 := func(index []byte) store.Record {
				if indexed {
					return indexedRecord("det", index)
				}
				return rec("det", index, nil)
			}
			stored := make([]store.Record, 0, 50_000)
			for range 50 {
				batch := make([]store.Record, 1000)
				for i := range batch {
					batch[i] = make1(randomBytes(32))
				}
				if _, err := s.Insert(ctx, batch); err != nil {
					b.Fatal(err)
				}
				stored = append(stored, batch...)
			}
			batches := make([][]store.Record, b.N)
			for i := range batches {
				batches[i] = make([]store.Record, 1000)
				for j := range batches[i] {
					batches[i][j] = make1(stored[(i*1000+j*37)%len(stored)].Index)
				}
			}
			defer reportCPU(b)()
			b.ResetTimer()
			for i := range b.N {
				out, err := s.Insert(ctx, batches[i])
				if err != nil || out[0].Status != store.Existing {
					b.Fatalf("Insert(existing) = %v, %v", out[0].Status, err)
				}
			}
		})
	}
}

// BenchmarkLookupIndex looks up 1,000 stored indexes one by one (what
// core's Lookup does per item) in a store of 50,000 deterministic
// records: indexed by their ID (a point read of the absent index entry,
// then a prefix seek) or with index entries (two point reads).
func BenchmarkLookupIndex(b *testing.B) {
	for _, indexed := range []bool{true, false} {
		b.Run(map[bool]string{true: "indexed", false: "entry"}[indexed], func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			stored := make([]store.Record, 0, 50_000)
			for range 50 {
				batch := make([]store.Record, 1000)
				for i := range batch {
					if indexed {
						batch[i] = indexedRecord("det", randomBytes(32))
					} else {
						batch[i] = rec("det", randomBytes(32), nil)
					}
				}
				if _, err := s.Insert(ctx, batch); err != nil {
					b.Fatal(err)
				}
				stored = append(stored, batch...)
			}
			defer reportCPU(b)()
			b.ResetTimer()
			for i := range b.N {
				for j := range 1000 {
					if _, err := s.LookupIndex(ctx, "det", stored[(i*1000+j*37)%len(stored)].Index); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
