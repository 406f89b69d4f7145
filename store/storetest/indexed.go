package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// Records indexed by their ID (store.IndexID) behave as every
// deterministic record: one per index, found by LookupIndex, gone with
// Delete, DeleteExpired and Rectify's move, and mixed with records whose
// ID is random (an existing store's) under the same index.

// indexedRec is a deterministic record of class for index (32 bytes, as
// core's HMAC), with its ID indexed by the index and a fresh random half.
func indexedRec(class string, index []byte) store.Record {
	r := rec(class, "")
	r.ID = make([]byte, 2*store.IndexedPrefix)
	rand.Read(r.ID)
	r.Index = index
	store.IndexID(r.ID, r.Index)
	r.Ciphertext = append([]byte("sealed-"), r.ID...)
	return r
}

func randomIndex() []byte {
	ix := make([]byte, 32)
	rand.Read(ix)
	return ix
}

// randomRec is a deterministic record of class for index with a random
// ID, as stores held them before records were indexed by their ID.
func randomRec(class string, index []byte) store.Record {
	r := indexedRec(class, index)
	rand.Read(r.ID)
	return r
}

func runIndexed(t *testing.T, open Opener) {
	t.Run("IndexedUnique", func(t *testing.T) { testIndexedUnique(t, open) })
	t.Run("IndexedMixed", func(t *testing.T) { testIndexedMixed(t, open) })
	t.Run("IndexedDelete", func(t *testing.T) { testIndexedDelete(t, open) })
	t.Run("IndexedRectify", func(t *testing.T) { testIndexedRectify(t, open) })
	t.Run("IndexedExpired", func(t *testing.T) { testIndexedExpired(t, open) })
	t.Run("IndexedExpiredReplaced", func(t *testing.T) { testIndexedExpiredReplaced(t, open) })
	t.Run("IndexedReopen", func(t *testing.T) { testIndexedReopen(t, open) })
	t.Run("IndexedConcurrent", func(t *testing.T) { testIndexedConcurrent(t, open) })
	t.Run("IndexedModel", func(t *testing.T) { testIndexedModel(t, open) })
}

// testIndexedUnique: a second record of one index is existing, in a
// later call and within one call; records of indexes sharing the first
// IndexedPrefix bytes stay apart.
func testIndexedUnique(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	ctx := context.Background()
	ix := randomIndex()
	a, b, c := indexedRec("email", ix), indexedRec("email", ix), indexedRec("email", ix)
	near := indexedRec("email", append(bytes.Clone(ix[:store.IndexedPrefix]), randomIndex()[store.IndexedPrefix:]...))
	out := mustInsert(t, s, a, b, near)
	if out[0].Status != store.Inserted || out[1].Status != store.Existing || !bytes.Equal(out[1].ID, a.ID) || out[2].Status != store.Inserted {
		t.Fatalf("Insert(a, b same index, near) = %+v; want inserted, existing a, inserted", out)
	}
	out = mustInsert(t, s, c)
	if out[0].Status != store.Existing || !bytes.Equal(out[0].ID, a.ID) {
		t.Errorf("Insert(same index later) = %v %x, want existing %x", out[0].Status, out[0].ID, a.ID)
	}
	for _, w := range []store.Record{a, near} {
		got, err := s.LookupIndex(ctx, "email", w.Index)
		if err != nil || !equal(got, w) {
			t.Errorf("LookupIndex(%x) = %+v, %v; want %+v", w.Index[:4], got, err, w)
		}
	}
	if _, err := s.Get(ctx, "email", b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(b) = %v, want ErrNotFound (nothing written)", err)
	}
	if _, err := s.LookupIndex(ctx, "phone", ix); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LookupIndex(other class) = %v, want ErrNotFound", err)
	}
	same := indexedRec("email", randomIndex())
	same.ID = a.ID
	if out := mustInsert(t, s, same); out[0].Status != store.Collision {
		t.Errorf("Insert(a's ID, another index) = %v, want collision", out[0].Status)
	}
}

// testIndexedMixed: an index held by a record with a random ID is
// existing for an indexed record and the other way round.
func testIndexedMixed(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	old, later := randomRec("email", randomIndex()), randomRec("email", randomIndex())
	mustInsert(t, s, old)
	newer := indexedRec("email", later.Index)
	mustInsert(t, s, newer)
	tests := []struct {
		name string
		r    store.Record
		want []byte
	}{
		{"indexed record of a random ID's index", indexedRec("email", old.Index), old.ID},
		{"random ID of an indexed record's index", later, newer.ID},
	}
	for _, tt := range tests {
		out := mustInsert(t, s, tt.r)
		if out[0].Status != store.Existing || !bytes.Equal(out[0].ID, tt.want) {
			t.Errorf("Insert(%s) = %v %x, want existing %x", tt.name, out[0].Status, out[0].ID, tt.want)
		}
	}
}

// testIndexedDelete: a deleted indexed record is gone for Get and
// LookupIndex, and its index takes a new record under another ID.
func testIndexedDelete(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	ctx := context.Background()
	a := indexedRec("email", randomIndex())
	mustInsert(t, s, a)
	if err := s.Delete(ctx, a); err != nil {
		t.Fatalf("Delete() = %v", err)
	}
	if _, err := s.Get(ctx, "email", a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after Delete, Get() = %v, want ErrNotFound", err)
	}
	if _, err := s.LookupIndex(ctx, "email", a.Index); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after Delete, LookupIndex() = %v, want ErrNotFound", err)
	}
	again := indexedRec("email", a.Index)
	out := mustInsert(t, s, again)
	if out[0].Status != store.Inserted || !bytes.Equal(out[0].ID, again.ID) || bytes.Equal(again.ID, a.ID) {
		t.Errorf("Insert(deleted index again) = %v %x, want inserted %x (not %x)", out[0].Status, out[0].ID, again.ID, a.ID)
	}
	if _, err := s.Get(ctx, "email", a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after inserting the index again, Get(deleted) = %v, want ErrNotFound", err)
	}
	if got, err := s.LookupIndex(ctx, "email", a.Index); err != nil || !equal(got, again) {
		t.Errorf("LookupIndex(index inserted again) = %+v, %v; want the new record", got, err)
	}
}

// testIndexedRectify: rectifying an indexed record moves its index; the
// old index is free, a taken one refused.
func testIndexedRectify(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	ctx := context.Background()
	a, taken := indexedRec("email", randomIndex()), indexedRec("email", randomIndex())
	mustInsert(t, s, a, taken)
	clash := a
	clash.Index = taken.Index
	if err := s.Rectify(ctx, a, clash); !errors.Is(err, store.ErrIndexTaken) {
		t.Errorf("Rectify(to an indexed record's index) = %v, want ErrIndexTaken", err)
	}
	next := a
	next.Index, next.Ciphertext = randomIndex(), []byte("new-sealed")
	if err := s.Rectify(ctx, a, next); err != nil {
		t.Fatalf("Rectify() = %v", err)
	}
	if got, err := s.LookupIndex(ctx, "email", next.Index); err != nil || !equal(got, next) {
		t.Errorf("after Rectify, LookupIndex(new) = %+v, %v; want %+v", got, err, next)
	}
	if _, err := s.LookupIndex(ctx, "email", a.Index); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after Rectify, LookupIndex(old) = %v, want ErrNotFound", err)
	}
	if out := mustInsert(t, s, indexedRec("email", a.Index)); out[0].Status != store.Inserted {
		t.Errorf("Insert(old index after Rectify) = %v, want inserted", out[0].Status)
	}
	if out := mustInsert(t, s, indexedRec("email", next.Index)); out[0].Status != store.Existing || !bytes.Equal(out[0].ID, a.ID) {
		t.Errorf("Insert(new index after Rectify) = %v %x, want existing %x", out[0].Status, out[0].ID, a.ID)
	}
	if err := s.Delete(ctx, next); err != nil {
		t.Fatalf("Delete(rectified) = %v", err)
	}
	if _, err := s.LookupIndex(ctx, "email", next.Index); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after deleting the rectified record, LookupIndex(new) = %v, want ErrNotFound", err)
	}
}

// testIndexedExpired: an expired indexed record is purged and its index
// freed.
func testIndexedExpired(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	ctx := context.Background()
	now := time.Unix(1750000000, 0).UTC()
	old := indexedRec("notes", randomIndex())
	old.ExpiresAt = now.Add(-time.Second)
	mustInsert(t, s, old)
	if n, err := s.DeleteExpired(ctx, "notes", now, 100); err != nil || n != 1 {
		t.Fatalf("DeleteExpired() = %d, %v; want 1", n, err)
	}
	if _, err := s.LookupIndex(ctx, "notes", old.Index); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after purge, LookupIndex() = %v, want ErrNotFound", err)
	}
	if out := mustInsert(t, s, indexedRec("notes", old.Index)); out[0].Status != store.Inserted {
		t.Errorf("Insert(purged index again) = %v, want inserted", out[0].Status)
	}
}

// testIndexedExpiredReplaced: a record that expired before a new record
// of its index was created no longer holds the index, purged or not: the
// new record is inserted in its place (its value gets a token that works,
// not the expired one), while a record not yet expired is existing.
func testIndexedExpiredReplaced(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	ctx := context.Background()
	tests := []struct {
		name string
		make func(class string, index []byte) store.Record
	}{
		{"indexed by ID", indexedRec},
		{"random ID", randomRec},
	}
	for _, tt := range tests {
		old := tt.make("notes", randomIndex())
		old.ExpiresAt = old.CreatedAt.Add(time.Minute)
		mustInsert(t, s, old)
		early := tt.make("notes", old.Index)
		early.CreatedAt = old.CreatedAt.Add(30 * time.Second)
		if out := mustInsert(t, s, early); out[0].Status != store.Existing || !bytes.Equal(out[0].ID, old.ID) {
			t.Errorf("%s: Insert(before expiry) = %v %x, want existing %x", tt.name, out[0].Status, out[0].ID, old.ID)
		}
		late := tt.make("notes", old.Index)
		late.CreatedAt = old.CreatedAt.Add(2 * time.Minute)
		if out := mustInsert(t, s, late); out[0].Status != store.Inserted || !bytes.Equal(out[0].ID, late.ID) {
			t.Errorf("%s: Insert(after expiry) = %v %x, want inserted %x", tt.name, out[0].Status, out[0].ID, late.ID)
		}
		if got, err := s.LookupIndex(ctx, "notes", old.Index); err != nil || !equal(got, late) {
			t.Errorf("%s: LookupIndex() = %x, %v; want the new record %x", tt.name, got.ID, err, late.ID)
		}
		if _, err := s.Get(ctx, "notes", old.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: Get(expired) = %v, want ErrNotFound", tt.name, err)
		}
		again := tt.make("notes", old.Index)
		again.CreatedAt = late.CreatedAt
		if out := mustInsert(t, s, again); out[0].Status != store.Existing || !bytes.Equal(out[0].ID, late.ID) {
			t.Errorf("%s: Insert(again) = %v %x, want existing %x", tt.name, out[0].Status, out[0].ID, late.ID)
		}
	}
}

// testIndexedReopen: after a restart an indexed record is found by its
// index, and its index is existing.
func testIndexedReopen(t *testing.T, open Opener) {
	dir := t.TempDir()
	s := open(t, dir)
	a := indexedRec("email", randomIndex())
	mustInsert(t, s, a)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	s = openClosed(t, open, dir)
	if got, err := s.LookupIndex(context.Background(), "email", a.Index); err != nil || !equal(got, a) {
		t.Errorf("after reopen, LookupIndex() = %+v, %v; want %+v", got, err, a)
	}
	if out := mustInsert(t, s, indexedRec("email", a.Index)); out[0].Status != store.Existing || !bytes.Equal(out[0].ID, a.ID) {
		t.Errorf("after reopen, Insert(same index) = %v %x, want existing %x", out[0].Status, out[0].ID, a.ID)
	}
}

// testIndexedConcurrent: staged inserts of one index under different
// indexed IDs from many goroutines, each with records of its own, agree
// on one ID.
func testIndexedConcurrent(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	const workers = 16
	ix := randomIndex()
	ids := make([][]byte, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			recs := []store.Record{indexedRec("email", randomIndex()), indexedRec("email", ix), indexedRec("email", randomIndex())}
			out, wait, err := s.InsertStaged(context.Background(), recs)
			if err == nil {
				err = wait()
			}
			if err != nil {
				errs[w] = err
				return
			}
			ids[w] = out[1].ID
		})
	}
	wg.Wait()
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("InsertStaged() in worker %d = %v", w, errs[w])
		}
		if !bytes.Equal(ids[w], ids[0]) {
			t.Errorf("worker %d got ID %x, worker 0 %x; want one ID for one index", w, ids[w], ids[0])
		}
	}
	if got, err := s.LookupIndex(context.Background(), "email", ix); err != nil || !bytes.Equal(got.ID, ids[0]) {
		t.Errorf("LookupIndex(contended) = %x, %v; want %x", got.ID, err, ids[0])
	}
}

// testIndexedModel runs a random sequence of inserts (batches mixing
// records indexed by their ID and records with random IDs), deletions and
// reopens over a few indexes, half of them sharing their first
// IndexedPrefix bytes, and checks every outcome and lookup against a
// model: one live record per index, a deleted one gone for good.
func testIndexedModel(t *testing.T, open Opener) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	defer func() { s.Close() }()
	shared := randomIndex()[:store.IndexedPrefix]
	indexes := make([][]byte, 6)
	for i := range indexes {
		indexes[i] = randomIndex()
		if i%2 == 0 {
			copy(indexes[i], shared)
		}
	}
	rng := mrand.New(mrand.NewPCG(11, 12)) // the records' IDs and indexes are random anyway
	live := map[int]store.Record{}         // index position -> its record
	var deleted [][]byte
	for step := range 120 {
		switch op := rng.IntN(10); {
		case op < 6:
			picks := make([]int, 1+rng.IntN(4))
			recs := make([]store.Record, len(picks))
			for j := range picks {
				picks[j] = rng.IntN(len(indexes))
				if rng.IntN(4) == 0 {
					recs[j] = randomRec("email", indexes[picks[j]])
				} else {
					recs[j] = indexedRec("email", indexes[picks[j]])
				}
			}
			out := mustInsert(t, s, recs...)
			for j, o := range out {
				k := picks[j]
				if r, ok := live[k]; ok {
					if o.Status != store.Existing || !bytes.Equal(o.ID, r.ID) {
						t.Fatalf("step %d: Insert(index %d held by %x) = %v %x, want existing", step, k, r.ID, o.Status, o.ID)
					}
					continue
				}
				if o.Status != store.Inserted || !bytes.Equal(o.ID, recs[j].ID) {
					t.Fatalf("step %d: Insert(free index %d) = %v %x, want inserted %x", step, k, o.Status, o.ID, recs[j].ID)
				}
				live[k] = recs[j]
			}
		case op < 9 && len(live) > 0:
			k := rng.IntN(len(indexes))
			r, ok := live[k]
			if !ok {
				continue
			}
			if err := s.Delete(ctx, r); err != nil {
				t.Fatalf("step %d: Delete(index %d) = %v", step, k, err)
			}
			delete(live, k)
			deleted = append(deleted, r.ID)
		default:
			if err := s.Close(); err != nil {
				t.Fatalf("step %d: Close() = %v", step, err)
			}
			s = open(t, dir)
		}
		for k, ix := range indexes {
			got, err := s.LookupIndex(ctx, "email", ix)
			r, ok := live[k]
			if ok != (err == nil) || ok && !equal(got, r) || !ok && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("step %d: LookupIndex(index %d) = %x, %v; want %x (live %v)", step, k, got.ID, err, r.ID, ok)
			}
		}
	}
	for _, id := range deleted {
		if _, err := s.Get(ctx, "email", id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(deleted %x) = %v, want ErrNotFound", id, err)
		}
	}
}
