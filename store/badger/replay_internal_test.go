package badger

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// TestWALReplaysAfterCrash: what a crash leaves once inserts were made
// durable — the memtable WALs as synced, never flushed to tables — opens
// with every record and index: Badger's replay checks each WAL entry's
// checksum and each transaction's end marker, and the store's write path
// (entries in key order, checksums computed without a hash writer; see
// third_party/badger/PRIVACYVAULT.md) must write both as replay reads
// them. The crash is a copy of the data directory taken while the store
// is open.
func TestWALReplaysAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	var all []store.Record
	for call := range 5 {
		recs := make([]store.Record, 300)
		for i := range recs {
			r := store.Record{Class: "c", ID: randomID(t), KeyVersion: 1, Ciphertext: bytes.Repeat([]byte{byte(i)}, 20+i%50),
				CreatedAt: time.Unix(1700000000, int64(call*1000+i)).UTC()}
			if i%3 == 0 {
				r.Index = []byte(fmt.Sprintf("index-%d-%d", call, i))
			}
			if i%7 == 0 {
				r.Subject = []byte("subject")
			}
			recs[i] = r
		}
		out, wait, err := s.InsertStaged(ctx, recs)
		if err != nil {
			t.Fatalf("InsertStaged() error = %v", err)
		}
		if err := wait(); err != nil {
			t.Fatalf("InsertStaged() wait error = %v", err)
		}
		for i, o := range out {
			if o.Status != store.Inserted {
				t.Fatalf("InsertStaged()[%d] = %v, want Inserted", i, o.Status)
			}
		}
		all = append(all, recs...)
	}
	crashed := t.TempDir()
	if err := os.CopyFS(crashed, os.DirFS(dir)); err != nil {
		t.Fatalf("copying the data directory: %v", err)
	}
	if err := os.Remove(filepath.Join(crashed, "LOCK")); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	s2, err := Open(Options{Dir: crashed})
	if err != nil {
		t.Fatalf("Open(crash copy) error = %v", err)
	}
	defer s2.Close()
	subject := 0
	for i, r := range all {
		got, err := s2.Get(ctx, r.Class, r.ID)
		if err != nil || !sameRecord(got, r) {
			t.Fatalf("after replay Get(record %d) = %+v, %v, want %+v", i, got, err, r)
		}
		if r.Index != nil {
			if got, err := s2.LookupIndex(ctx, r.Class, r.Index); err != nil || !bytes.Equal(got.ID, r.ID) {
				t.Fatalf("after replay LookupIndex(record %d) = %+v, %v, want ID %x", i, got, err, r.ID)
			}
		}
		if r.Subject != nil {
			subject++
		}
	}
	got, err := s2.SubjectRecords(ctx, []byte("subject"))
	if err != nil || len(got) != subject {
		t.Fatalf("after replay SubjectRecords() = %d records, %v, want %d", len(got), err, subject)
	}
}
