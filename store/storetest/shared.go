package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// testShared checks that two stores open on one dir at once behave as one
// store: what one writes the other reads, deterministic values get one
// token across both, erasure through one is seen by the other at once, and
// purging from both deletes each expired record once.
func testShared(t *testing.T, open Opener) {
	dir := t.TempDir()
	a, b := openClosed(t, open, dir), openClosed(t, open, dir)
	ctx := context.Background()

	r := rec("email", "from-a")
	r.Index, r.Subject = []byte("ix-a"), []byte("alice")
	mustInsert(t, a, r)
	if got, err := b.Get(ctx, "email", r.ID); err != nil || !equal(got, r) {
		t.Errorf("b.Get(record a wrote) = %+v, %v; want it", got, err)
	}
	if got, err := b.LookupIndex(ctx, "email", r.Index); err != nil || !equal(got, r) {
		t.Errorf("b.LookupIndex(index a wrote) = %+v, %v; want it", got, err)
	}
	dup := rec("email", "from-b")
	dup.Index = r.Index
	if out := mustInsert(t, b, dup); out[0].Status != store.Existing || string(out[0].ID) != "from-a" {
		t.Errorf("b.Insert(value a tokenized) = %v %q, want existing \"from-a\"", out[0].Status, out[0].ID)
	}

	// One deterministic value from both stores at once: one token.
	const workers = 8
	ids := make([][]byte, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if w%2 == 1 {
				s = b
			}
			r := rec("email", fmt.Sprintf("w%d", w))
			r.Index = []byte("contended")
			out, err := s.Insert(ctx, []store.Record{r})
			if err == nil {
				ids[w] = out[0].ID
			}
			errs[w] = err
		}()
	}
	wg.Wait()
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("Insert() in worker %d error = %v", w, errs[w])
		}
		if !bytes.Equal(ids[w], ids[0]) {
			t.Errorf("worker %d got id %q, worker 0 got %q; want one token for one value across stores", w, ids[w], ids[0])
		}
	}

	// Subject keys created on both at once: one key.
	ka, errA := a.PutSubjectKeyIfAbsent(ctx, []byte("alice"), "email", []byte("key-a"))
	kb, errB := b.PutSubjectKeyIfAbsent(ctx, []byte("alice"), "email", []byte("key-b"))
	if errA != nil || errB != nil || !bytes.Equal(ka, kb) {
		t.Errorf("PutSubjectKeyIfAbsent on a then b = %q, %q (%v, %v); want one key", ka, kb, errA, errB)
	}
	if err := a.PutConsent(ctx, store.Consent{Subject: []byte("alice"), Purpose: "marketing"}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Consents(ctx, []byte("alice")); err != nil || len(got) != 1 {
		t.Errorf("b.Consents(alice) = %+v, %v; want the consent a stored", got, err)
	}

	// Erasure through b: a sees nothing of the subject right after.
	if n, err := b.EraseSubject(ctx, []byte("alice")); err != nil || n.Records != 1 || n.Keys != 1 || n.Consents != 1 {
		t.Fatalf("b.EraseSubject(alice) = %+v, %v; want 1 record, 1 key, 1 consent", n, err)
	}
	if _, err := a.Get(ctx, "email", r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a.Get(erased record) error = %v, want ErrNotFound", err)
	}
	if _, err := a.SubjectKey(ctx, []byte("alice"), "email"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a.SubjectKey(erased subject) error = %v, want ErrNotFound", err)
	}
	if got, _ := a.Consents(ctx, []byte("alice")); len(got) != 0 {
		t.Errorf("a.Consents(erased subject) = %+v, want none", got)
	}

	// Purging from both at once deletes each expired record once.
	now := time.Unix(1750000000, 0).UTC()
	const expired = 200
	var recs []store.Record
	for i := range expired {
		x := rec("notes", fmt.Sprintf("old-%03d", i))
		x.ExpiresAt = now.Add(-time.Second)
		recs = append(recs, x)
	}
	mustInsert(t, a, recs...)
	counts := make([]int, 2)
	for i, s := range []store.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := s.DeleteExpired(ctx, "notes", now, 7)
				if err != nil {
					t.Errorf("DeleteExpired() error = %v", err)
					return
				}
				if n == 0 {
					return
				}
				counts[i] += n
			}
		}()
	}
	wg.Wait()
	if counts[0]+counts[1] != expired {
		t.Errorf("DeleteExpired from both stores deleted %d + %d, want %d in all", counts[0], counts[1], expired)
	}
}

func testDelete(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	ctx := context.Background()
	a := rec("email", "a")
	a.Index, a.Subject = []byte("idx-a"), []byte("subj")
	mustInsert(t, s, a)
	stale := a
	stale.Ciphertext = []byte("other")
	if err := s.Delete(ctx, stale); !errors.Is(err, store.ErrChanged) {
		t.Errorf("Delete(stale record) = %v, want ErrChanged", err)
	}
	if err := s.Delete(ctx, a); err != nil {
		t.Fatalf("Delete() = %v, want nil", err)
	}
	if _, err := s.Get(ctx, "email", a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after Delete, Get() error = %v, want ErrNotFound", err)
	}
	if _, err := s.LookupIndex(ctx, "email", a.Index); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after Delete, LookupIndex() error = %v, want ErrNotFound", err)
	}
	if recs, err := s.SubjectRecords(ctx, a.Subject); err != nil || len(recs) != 0 {
		t.Errorf("after Delete, SubjectRecords() = %d, %v; want none", len(recs), err)
	}
	if err := s.Delete(ctx, a); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Delete(deleted record) = %v, want ErrNotFound", err)
	}
}
