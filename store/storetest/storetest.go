// Package storetest is the conformance suite every store.Store must pass.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// Opener opens the store under test. Calling it again with the same t must
// reopen the same data (for the durability check); the suite closes what
// it opens.
type Opener func(t *testing.T, dir string) store.Store

// Option changes what Run checks.
type Option func(*options)

type options struct{ shared bool }

// Shared declares that two stores open on the same dir at once are one
// store (a database server shared by a fleet of sidecars), and adds the
// Shared case, which checks that they behave as one.
func Shared() Option { return func(o *options) { o.shared = true } }

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open Opener, opts ...Option) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.shared {
		t.Run("Shared", func(t *testing.T) { testShared(t, open) })
	}
	t.Run("InsertGet", func(t *testing.T) { testInsertGet(t, open) })
	t.Run("Collision", func(t *testing.T) { testCollision(t, open) })
	t.Run("IndexUnique", func(t *testing.T) { testIndexUnique(t, open) })
	t.Run("IndexUniqueWithinBatch", func(t *testing.T) { testIndexWithinBatch(t, open) })
	t.Run("ClassesSeparate", func(t *testing.T) { testClassesSeparate(t, open) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open) })
	t.Run("Reopen", func(t *testing.T) { testReopen(t, open) })
	t.Run("ConcurrentDeterministic", func(t *testing.T) { testConcurrentDeterministic(t, open) })
	t.Run("LargeBatch", func(t *testing.T) { testLargeBatch(t, open) })
	t.Run("InsertStaged", func(t *testing.T) { testInsertStaged(t, open) })
	t.Run("ConcurrentStagedDeterministic", func(t *testing.T) { testConcurrentStagedDeterministic(t, open) })
	t.Run("GetMany", func(t *testing.T) { testGetMany(t, open) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, open) })
	t.Run("Scan", func(t *testing.T) { testScan(t, open) })
	t.Run("Replace", func(t *testing.T) { testReplace(t, open) })
	t.Run("Meta", func(t *testing.T) { testMeta(t, open) })
	t.Run("Subject", func(t *testing.T) { testSubject(t, open) })
	t.Run("Consents", func(t *testing.T) { testConsents(t, open) })
	t.Run("SubjectKeys", func(t *testing.T) { testSubjectKeys(t, open) })
	t.Run("EraseSubject", func(t *testing.T) { testEraseSubject(t, open) })
	t.Run("Rectify", func(t *testing.T) { testRectify(t, open) })
	t.Run("DeleteExpired", func(t *testing.T) { testDeleteExpired(t, open) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open) })
	runIndexed(t, open)
}

func testSubjectKeys(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	ctx := context.Background()
	if _, err := s.SubjectKey(ctx, []byte("subj"), "email"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SubjectKey(none) error = %v, want ErrNotFound", err)
	}
	first, err := s.PutSubjectKeyIfAbsent(ctx, []byte("subj"), "email", []byte("wrapped-1"))
	if err != nil || string(first) != "wrapped-1" {
		t.Fatalf("PutSubjectKeyIfAbsent(first) = %q, %v", first, err)
	}
	second, err := s.PutSubjectKeyIfAbsent(ctx, []byte("subj"), "email", []byte("wrapped-2"))
	if err != nil || string(second) != "wrapped-1" {
		t.Errorf("PutSubjectKeyIfAbsent(second) = %q, %v; want the first key kept", second, err)
	}
	if got, err := s.SubjectKey(ctx, []byte("subj"), "phone"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SubjectKey(other class) = %q, %v; want ErrNotFound", got, err)
	}
	if _, err := s.PutSubjectKeyIfAbsent(ctx, []byte("other"), "phone", []byte("wrapped-3")); err != nil {
		t.Fatal(err)
	}
	var all []string
	var after []byte
	for {
		page, err := s.SubjectKeys(ctx, after, 1)
		if err != nil {
			t.Fatalf("SubjectKeys() error = %v", err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, string(page[0].Subject)+"/"+page[0].Class+"="+string(page[0].Wrapped))
		after = page[0].Cursor
	}
	slices.Sort(all)
	if want := []string{"other/phone=wrapped-3", "subj/email=wrapped-1"}; !slices.Equal(all, want) {
		t.Errorf("SubjectKeys() one by one, sorted = %v, want %v", all, want)
	}
	if err := s.ReplaceSubjectKey(ctx, []byte("subj"), "email", []byte("wrapped-2"), []byte("x")); !errors.Is(err, store.ErrChanged) {
		t.Errorf("ReplaceSubjectKey(stale old) = %v, want ErrChanged", err)
	}
	if err := s.ReplaceSubjectKey(ctx, []byte("nobody"), "email", []byte("wrapped-1"), []byte("x")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReplaceSubjectKey(no key) = %v, want ErrNotFound", err)
	}
	if err := s.ReplaceSubjectKey(ctx, []byte("subj"), "email", []byte("wrapped-1"), []byte("rewrapped")); err != nil {
		t.Errorf("ReplaceSubjectKey() = %v, want nil", err)
	}
	if got, err := s.SubjectKey(ctx, []byte("subj"), "email"); err != nil || string(got) != "rewrapped" {
		t.Errorf("SubjectKey() after replace = %q, %v; want rewrapped", got, err)
	}
}

func testEraseSubject(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	ctx := context.Background()
	a1, a2, b := rec("email", "a1"), rec("card", "a2"), rec("email", "b1")
	a1.Subject, a2.Subject, b.Subject = []byte("alice"), []byte("alice"), []byte("bob")
	a1.Index = []byte("idx-a1")
	mustInsert(t, s, a1, a2, b)
	for _, k := range []struct{ subj, class string }{{"alice", "email"}, {"alice", "card"}, {"bob", "email"}} {
		if _, err := s.PutSubjectKeyIfAbsent(ctx, []byte(k.subj), k.class, []byte("w")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutConsent(ctx, store.Consent{Subject: []byte("alice"), Purpose: "marketing"}); err != nil {
		t.Fatal(err)
	}
	recs, err := s.SubjectRecords(ctx, []byte("alice"))
	if err != nil || len(recs) != 2 {
		t.Fatalf("SubjectRecords(alice) = %d records, %v; want 2", len(recs), err)
	}
	n, err := s.EraseSubject(ctx, []byte("alice"))
	if err != nil || n.Records != 2 || n.Keys != 2 || n.Consents != 1 {
		t.Fatalf("EraseSubject(alice) = %+v, %v; want 2 records, 2 keys, 1 consent", n, err)
	}
	if n.Remains == "" {
		t.Errorf("EraseSubject(alice).Remains = %q, want the store's statement of what remains", n.Remains)
	}
	checks := []struct {
		name string
		err  error
	}{
		{"record a1", second(s.Get(ctx, "email", []byte("a1")))},
		{"record a2", second(s.Get(ctx, "card", []byte("a2")))},
		{"index of a1", second(s.LookupIndex(ctx, "email", []byte("idx-a1")))},
		{"key alice/email", second(s.SubjectKey(ctx, []byte("alice"), "email"))},
	}
	for _, c := range checks {
		if !errors.Is(c.err, store.ErrNotFound) {
			t.Errorf("after erase, %s error = %v, want ErrNotFound", c.name, c.err)
		}
	}
	if recs, _ := s.SubjectRecords(ctx, []byte("alice")); len(recs) != 0 {
		t.Errorf("after erase SubjectRecords(alice) = %d, want 0", len(recs))
	}
	if _, err := s.Get(ctx, "email", []byte("b1")); err != nil {
		t.Errorf("after erasing alice, Get(bob's record) error = %v", err)
	}
	if _, err := s.SubjectKey(ctx, []byte("bob"), "email"); err != nil {
		t.Errorf("after erasing alice, SubjectKey(bob) error = %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

func testRectify(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	ctx := context.Background()
	a, other := rec("email", "a"), rec("email", "o")
	a.Index, other.Index = []byte("old-index"), []byte("taken")
	mustInsert(t, s, a, other)
	next := a
	next.Index, next.Ciphertext = []byte("new-index"), []byte("new-sealed")
	if err := s.Rectify(ctx, a, next); err != nil {
		t.Fatalf("Rectify() error = %v", err)
	}
	if got, err := s.LookupIndex(ctx, "email", []byte("new-index")); err != nil || string(got.ID) != "a" || string(got.Ciphertext) != "new-sealed" {
		t.Errorf("after Rectify LookupIndex(new) = %+v, %v", got, err)
	}
	if _, err := s.LookupIndex(ctx, "email", []byte("old-index")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after Rectify LookupIndex(old) error = %v, want ErrNotFound", err)
	}
	if err := s.Rectify(ctx, a, next); !errors.Is(err, store.ErrChanged) {
		t.Errorf("Rectify(stale) error = %v, want ErrChanged", err)
	}
	clash := next
	clash.Index = []byte("taken")
	if err := s.Rectify(ctx, next, clash); !errors.Is(err, store.ErrIndexTaken) {
		t.Errorf("Rectify(to a taken index) error = %v, want ErrIndexTaken", err)
	}
}

func testDeleteExpired(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	ctx := context.Background()
	now := time.Unix(1750000000, 0).UTC()
	old, live, forever := rec("notes", "old"), rec("notes", "live"), rec("notes", "forever")
	old.ExpiresAt, live.ExpiresAt, forever.ExpiresAt = now.Add(-time.Second), now.Add(time.Hour), time.Time{}
	old.Index, old.Subject = []byte("old-idx"), []byte("subj")
	mustInsert(t, s, old, live, forever)
	n, err := s.DeleteExpired(ctx, "notes", now, 100)
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpired() = %d, %v; want 1", n, err)
	}
	if _, err := s.Get(ctx, "notes", []byte("old")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after purge Get(old) error = %v, want ErrNotFound", err)
	}
	if _, err := s.LookupIndex(ctx, "notes", []byte("old-idx")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after purge LookupIndex(old) error = %v, want ErrNotFound", err)
	}
	for _, id := range []string{"live", "forever"} {
		if _, err := s.Get(ctx, "notes", []byte(id)); err != nil {
			t.Errorf("after purge Get(%s) error = %v", id, err)
		}
	}
}

func testSubject(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	r := rec("email", "with-subject")
	r.Subject = []byte("subject-fp-1")
	mustInsert(t, s, r)
	got, err := s.Get(context.Background(), "email", r.ID)
	if err != nil || !bytes.Equal(got.Subject, r.Subject) || !equal(got, r) {
		t.Errorf("Get(record with subject) = %+v, %v; want subject %q kept", got, err, r.Subject)
	}
}

func testConsents(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	now := time.Unix(1700000000, 0).UTC()
	a := store.Consent{Subject: []byte("subj-a"), Purpose: "marketing", LawfulBasis: "consent", GrantedAt: now, ExpiresAt: now.Add(time.Hour)}
	b := store.Consent{Subject: []byte("subj-a"), Purpose: "analytics", LawfulBasis: "consent", GrantedAt: now}
	other := store.Consent{Subject: []byte("subj-ab"), Purpose: "marketing", GrantedAt: now}
	for _, c := range []store.Consent{a, b, other} {
		if err := s.PutConsent(context.Background(), c); err != nil {
			t.Fatalf("PutConsent() error = %v", err)
		}
	}
	got, err := s.Consents(context.Background(), []byte("subj-a"))
	if err != nil || len(got) != 2 || got[0].Purpose != "analytics" || got[1].Purpose != "marketing" || !got[1].ExpiresAt.Equal(a.ExpiresAt) {
		t.Fatalf("Consents(subj-a) = %+v, %v; want analytics and marketing only", got, err)
	}
	revoked := a
	revoked.RevokedAt = now.Add(time.Minute)
	if err := s.PutConsent(context.Background(), revoked); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Consents(context.Background(), []byte("subj-a"))
	if len(got) != 2 || got[1].RevokedAt.IsZero() || got[1].Live(now.Add(2*time.Minute)) {
		t.Errorf("Consents after revoke = %+v; want marketing revoked and not live", got)
	}
	if got, _ := s.Consents(context.Background(), []byte("nobody")); len(got) != 0 {
		t.Errorf("Consents(nobody) = %+v, want none", got)
	}
}

func testScan(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	var recs []store.Record
	for i := range 25 {
		recs = append(recs, rec("card", fmt.Sprintf("id-%02d", i)))
	}
	mustInsert(t, s, append(recs, rec("cardx", "id-00"), rec("car", "id-99"))...)
	var got []string
	var after []byte
	for {
		page, err := s.Scan(context.Background(), "card", after, 10)
		if err != nil {
			t.Fatalf("Scan() error = %v", err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if r.Class != "card" {
				t.Fatalf("Scan(card) returned a record of class %q", r.Class)
			}
			got = append(got, string(r.ID))
		}
		after = page[len(page)-1].ID
	}
	if len(got) != 25 || got[0] != "id-00" || got[24] != "id-24" {
		t.Errorf("Scan(card) pages = %v, want id-00..id-24 in order", got)
	}
}

func testReplace(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	old := rec("card", "a")
	mustInsert(t, s, old)
	next := old
	next.KeyVersion = 4
	next.Ciphertext = []byte("resealed")
	if err := s.Replace(context.Background(), old, next); err != nil {
		t.Fatalf("Replace() error = %v", err)
	}
	got, err := s.Get(context.Background(), "card", []byte("a"))
	if err != nil || !equal(got, next) {
		t.Errorf("after Replace Get() = %+v, %v; want %+v", got, err, next)
	}
	if err := s.Replace(context.Background(), old, next); !errors.Is(err, store.ErrChanged) {
		t.Errorf("Replace(stale old) error = %v, want ErrChanged", err)
	}
	if err := s.Replace(context.Background(), rec("card", "missing"), rec("card", "missing")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Replace(missing) error = %v, want ErrNotFound", err)
	}
}

func testMeta(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	if _, err := s.GetMeta(context.Background(), "job/x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMeta(never put) error = %v, want ErrNotFound", err)
	}
	if err := s.PutMeta(context.Background(), "job/x", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta(context.Background(), "job/x", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetMeta(context.Background(), "job/x")
	if err != nil || string(got) != "v2" {
		t.Errorf("GetMeta(job/x) = %q, %v; want v2", got, err)
	}
}

func openClosed(t *testing.T, open Opener, dir string) store.Store {
	s := open(t, dir)
	t.Cleanup(func() { s.Close() })
	return s
}

func rec(class, id string) store.Record {
	return store.Record{
		Class:      class,
		ID:         []byte(id),
		KeyVersion: 3,
		Ciphertext: []byte("sealed-" + id),
		CreatedAt:  time.Unix(1700000000, 123).UTC(),
		ExpiresAt:  time.Unix(1800000000, 0).UTC(),
	}
}

func equal(a, b store.Record) bool {
	return a.Class == b.Class && bytes.Equal(a.ID, b.ID) && bytes.Equal(a.Index, b.Index) && bytes.Equal(a.Subject, b.Subject) &&
		a.KeyVersion == b.KeyVersion && bytes.Equal(a.Ciphertext, b.Ciphertext) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.ExpiresAt.Equal(b.ExpiresAt)
}

func mustInsert(t *testing.T, s store.Store, recs ...store.Record) []store.Outcome {
	t.Helper()
	out, err := s.Insert(context.Background(), recs)
	if err != nil {
		t.Fatalf("Insert() error = %v", err)
	}
	if len(out) != len(recs) {
		t.Fatalf("Insert() returned %d outcomes, want %d", len(out), len(recs))
	}
	return out
}

func testInsertGet(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	want := rec("email", "id-1")
	want.Index = []byte("idx-1")
	noExpiry := rec("email", "id-2")
	noExpiry.ExpiresAt = time.Time{}
	out := mustInsert(t, s, want, noExpiry)
	for i, o := range out {
		if o.Status != store.Inserted {
			t.Errorf("Insert()[%d].Status = %v, want inserted", i, o.Status)
		}
	}
	for _, w := range []store.Record{want, noExpiry} {
		got, err := s.Get(context.Background(), w.Class, w.ID)
		if err != nil || !equal(got, w) {
			t.Errorf("Get(%s) = %+v, %v, want %+v", w.ID, got, err, w)
		}
	}
	got, err := s.LookupIndex(context.Background(), "email", []byte("idx-1"))
	if err != nil || !equal(got, want) {
		t.Errorf("LookupIndex(idx-1) = %+v, %v, want %+v", got, err, want)
	}
}

func testCollision(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	first := rec("card", "same")
	mustInsert(t, s, first)
	second := rec("card", "same")
	second.Ciphertext = []byte("other")
	out := mustInsert(t, s, second)
	if out[0].Status != store.Collision {
		t.Errorf("Insert(duplicate id).Status = %v, want collision", out[0].Status)
	}
	got, err := s.Get(context.Background(), "card", []byte("same"))
	if err != nil || !equal(got, first) {
		t.Errorf("Get(same) = %+v, %v, want the first record unchanged", got, err)
	}
}

func testIndexUnique(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	a := rec("email", "a")
	a.Index = []byte("ix")
	b := rec("email", "b")
	b.Index = []byte("ix")
	mustInsert(t, s, a)
	out := mustInsert(t, s, b)
	if out[0].Status != store.Existing || string(out[0].ID) != "a" {
		t.Errorf("Insert(same index) = %v %q, want existing \"a\"", out[0].Status, out[0].ID)
	}
	if _, err := s.Get(context.Background(), "email", []byte("b")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(b) error = %v, want ErrNotFound (nothing written)", err)
	}
}

func testIndexWithinBatch(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	a := rec("email", "a")
	a.Index = []byte("ix")
	b := rec("email", "b")
	b.Index = []byte("ix")
	out := mustInsert(t, s, a, b)
	if out[0].Status != store.Inserted || out[1].Status != store.Existing || string(out[1].ID) != "a" {
		t.Errorf("Insert(a, b same index) = %v, %v %q; want inserted, existing \"a\"", out[0].Status, out[1].Status, out[1].ID)
	}
}

func testClassesSeparate(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	a := rec("email", "x")
	a.Index = []byte("ix")
	b := rec("phone", "x")
	b.Index = []byte("ix")
	out := mustInsert(t, s, a, b)
	if out[0].Status != store.Inserted || out[1].Status != store.Inserted {
		t.Errorf("Insert(same id and index, two classes) = %v, %v; want inserted twice", out[0].Status, out[1].Status)
	}
	got, err := s.Get(context.Background(), "phone", []byte("x"))
	if err != nil || got.Class != "phone" {
		t.Errorf("Get(phone, x) = %+v, %v; want the phone record", got, err)
	}
}

func testNotFound(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	mustInsert(t, s, rec("email", "a"))
	if _, err := s.Get(context.Background(), "email", []byte("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(nope) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(context.Background(), "phone", []byte("a")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(other class) error = %v, want ErrNotFound", err)
	}
	if _, err := s.LookupIndex(context.Background(), "email", []byte("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LookupIndex(nope) error = %v, want ErrNotFound", err)
	}
}

func testReopen(t *testing.T, open Opener) {
	dir := t.TempDir()
	s := open(t, dir)
	want := rec("email", "durable")
	want.Index = []byte("dix")
	mustInsert(t, s, want)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	s = openClosed(t, open, dir)
	got, err := s.LookupIndex(context.Background(), "email", []byte("dix"))
	if err != nil || !equal(got, want) {
		t.Errorf("after reopen LookupIndex(dix) = %+v, %v, want %+v", got, err, want)
	}
}

func testConcurrentDeterministic(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	const workers = 8
	ids := make([][]byte, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rec("email", fmt.Sprintf("w%d", w))
			r.Index = []byte("contended")
			out, err := s.Insert(context.Background(), []store.Record{r})
			if err != nil {
				errs[w] = err
				return
			}
			ids[w] = out[0].ID
		}()
	}
	wg.Wait()
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("Insert() in worker %d error = %v", w, errs[w])
		}
		if !bytes.Equal(ids[w], ids[0]) {
			t.Errorf("worker %d got id %q, worker 0 got %q; want one token for one value", w, ids[w], ids[0])
		}
	}
}

func testLargeBatch(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	const n = 10000
	recs := make([]store.Record, n)
	for i := range recs {
		recs[i] = rec("text", fmt.Sprintf("id-%05d", i))
		recs[i].Ciphertext = bytes.Repeat([]byte{byte(i)}, 256)
	}
	out := mustInsert(t, s, recs...)
	for i, o := range out {
		if o.Status != store.Inserted {
			t.Fatalf("Insert()[%d].Status = %v, want inserted", i, o.Status)
		}
	}
	got, err := s.Get(context.Background(), "text", []byte("id-09999"))
	if err != nil || !equal(got, recs[n-1]) {
		t.Errorf("Get(last of batch) = %+v, %v; want the record", got.ID, err)
	}
}

func testClosed(t *testing.T, open Opener) {
	s := open(t, t.TempDir())
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	if _, err := s.Get(context.Background(), "email", []byte("a")); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Get() after Close error = %v, want ErrClosed", err)
	}
	if _, err := s.Insert(context.Background(), []store.Record{rec("email", "a")}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Insert() after Close error = %v, want ErrClosed", err)
	}
}

func testInsertStaged(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	ctx := context.Background()
	a, b := rec("email", "a"), rec("email", "b")
	a.Index, b.Index = []byte("same"), []byte("same")
	out, wait, err := s.InsertStaged(ctx, []store.Record{a, b})
	if err != nil {
		t.Fatalf("InsertStaged() error = %v", err)
	}
	if err := wait(); err != nil {
		t.Fatalf("InsertStaged() wait = %v", err)
	}
	if len(out) != 2 || out[0].Status != store.Inserted || out[1].Status != store.Existing || string(out[1].ID) != "a" {
		t.Fatalf("InsertStaged(a, b same index) = %+v, want inserted a, existing a", out)
	}
	if got, err := s.Get(ctx, "email", []byte("a")); err != nil || !equal(got, a) {
		t.Errorf("Get(a) after wait = %+v, %v; want a", got, err)
	}
	out, wait, err = s.InsertStaged(ctx, []store.Record{rec("email", "a")})
	if err != nil || wait() != nil || out[0].Status != store.Collision {
		t.Errorf("InsertStaged(a again) = %+v, %v; want a collision", out, err)
	}
	out, wait, err = s.InsertStaged(ctx, nil)
	if err != nil || wait() != nil || len(out) != 0 {
		t.Errorf("InsertStaged(nothing) = %+v, %v; want no outcomes and no error", out, err)
	}
}

// Staged inserts of one deterministic value from many goroutines agree on
// one token, and every one of them is durable once its wait returns.
func testConcurrentStagedDeterministic(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	const workers = 16
	ids := make([][]byte, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rec("email", fmt.Sprintf("w%d", w))
			r.Index = []byte("contended")
			own := rec("email", fmt.Sprintf("own%d", w))
			out, wait, err := s.InsertStaged(context.Background(), []store.Record{r, own})
			if err == nil {
				err = wait()
			}
			if err != nil {
				errs[w] = err
				return
			}
			ids[w] = out[0].ID
		}()
	}
	wg.Wait()
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("InsertStaged() in worker %d error = %v", w, errs[w])
		}
		if !bytes.Equal(ids[w], ids[0]) {
			t.Errorf("worker %d got id %q, worker 0 got %q; want one token for one value", w, ids[w], ids[0])
		}
		if _, err := s.Get(context.Background(), "email", []byte(fmt.Sprintf("own%d", w))); err != nil {
			t.Errorf("Get(own%d) = %v, want the record", w, err)
		}
	}
}

func testGetMany(t *testing.T, open Opener) {
	s := openClosed(t, open, t.TempDir())
	a, b := rec("email", "a"), rec("card", "b")
	mustInsert(t, s, a, b)
	refs := []store.Ref{{Class: "card", ID: []byte("b")}, {Class: "email", ID: []byte("missing")}, {Class: "email", ID: []byte("a")}, {Class: "card", ID: []byte("a")}}
	got, err := s.GetMany(context.Background(), refs)
	if err != nil || len(got) != len(refs) {
		t.Fatalf("GetMany() = %d records, %v; want %d", len(got), err, len(refs))
	}
	want := []store.Record{b, {}, a, {}}
	for i := range want {
		if !equal(got[i], want[i]) {
			t.Errorf("GetMany()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}
