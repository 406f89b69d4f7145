package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// GetMany, whose large batches are read in key order on several goroutines
// sharing one read transaction, answers every ref as a Get of it alone
// does: records in tables and in the memtable, missing ids, a foreign
// class, deleted and erased records, and refs repeated.
func TestGetManyEqualsGets(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	ctx := context.Background()
	var recs []store.Record
	for i := range 2000 {
		r := store.Record{Class: "email", ID: []byte(fmt.Sprintf("id-%05d", (i*7919)%2000)), KeyVersion: uint32(i%3 + 1),
			Ciphertext: []byte(fmt.Sprintf("sealed-%d", i)), CreatedAt: time.Unix(1700000000, int64(i)).UTC()}
		if i%10 == 0 {
			r.Subject = []byte("alice")
		}
		if i%7 == 0 {
			r.Index = []byte(fmt.Sprintf("index-%d", i))
		}
		recs = append(recs, r)
	}
	if _, err := s.Insert(ctx, recs[:1500]); err != nil {
		t.Fatalf("Insert() error = %v", err)
	}
	// Reopened, the first 1,500 are in a table; the rest in the memtable.
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	if s, err = Open(Options{Dir: dir}); err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer s.Close()
	if _, err := s.Insert(ctx, recs[1500:]); err != nil {
		t.Fatalf("Insert() error = %v", err)
	}
	if len(s.db.Tables()) == 0 {
		t.Fatal("the store has no table: GetMany would read only the memtable")
	}
	for _, r := range []store.Record{recs[3], recs[1200], recs[1801]} {
		if err := s.Delete(ctx, r); err != nil {
			t.Fatalf("Delete(%s) error = %v", r.ID, err)
		}
	}
	if _, err := s.EraseSubject(ctx, []byte("alice")); err != nil {
		t.Fatalf("EraseSubject() error = %v", err)
	}

	rng := rand.New(rand.NewPCG(3, 4))
	var refs []store.Ref
	for _, i := range rng.Perm(len(recs)) {
		refs = append(refs, store.Ref{Class: "email", ID: recs[i].ID})
		if i%9 == 0 { // the same ref again, later in the batch
			refs = append(refs, store.Ref{Class: "email", ID: recs[rng.IntN(len(recs))].ID})
		}
		if i%13 == 0 {
			refs = append(refs, store.Ref{Class: "email", ID: []byte(fmt.Sprintf("missing-%d", i))}, store.Ref{Class: "card", ID: recs[i].ID})
		}
	}
	got, err := s.GetMany(ctx, refs)
	if err != nil || len(got) != len(refs) {
		t.Fatalf("GetMany(%d refs) = %d records, %v", len(refs), len(got), err)
	}
	found := 0
	for i, ref := range refs {
		want, err := s.Get(ctx, ref.Class, ref.ID)
		if errors.Is(err, store.ErrNotFound) {
			want = store.Record{}
		} else if err != nil {
			t.Fatalf("Get(%s/%s) error = %v", ref.Class, ref.ID, err)
		} else {
			found++
		}
		if !sameRecord(got[i], want) {
			t.Errorf("GetMany()[%d] (%s/%s) = %+v, want %+v", i, ref.Class, ref.ID, got[i], want)
		}
	}
	// Of the 2,000 distinct records, 200 were alice's and 3 deleted (one
	// of them hers).
	if distinct := countDistinct(refs, got); distinct != 2000-200-2 {
		t.Errorf("GetMany() found %d distinct records, want %d", distinct, 2000-200-2)
	}
	if found == 0 {
		t.Error("no ref found by Get: the comparison compared nothing")
	}
}

// sameRecord reports whether a and b hold the same fields (times by
// instant).
func sameRecord(a, b store.Record) bool {
	return a.Class == b.Class && bytes.Equal(a.ID, b.ID) && bytes.Equal(a.Index, b.Index) && bytes.Equal(a.Subject, b.Subject) &&
		a.KeyVersion == b.KeyVersion && bytes.Equal(a.Ciphertext, b.Ciphertext) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.ExpiresAt.Equal(b.ExpiresAt)
}

// countDistinct counts the distinct records found.
func countDistinct(refs []store.Ref, got []store.Record) int {
	seen := map[string]bool{}
	for i, r := range got {
		if r.ID != nil {
			seen[refs[i].Class+"/"+string(refs[i].ID)] = true
		}
	}
	return len(seen)
}
