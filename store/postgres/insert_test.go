package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/internal/pgtest"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/store/postgres"
)

func openStore(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Options{DSN: pgtest.New(t)})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A batch of random records goes by a statement that fails on a taken ID
// (a group's or a batch's strict INSERT, or COPY from 64 records); when
// one ID is taken, the batch is written the usual way and only that record
// collides.
func TestBatchWithTakenID(t *testing.T) {
	for _, n := range []int{5, 40, 200} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := openStore(t)
			ctx := context.Background()
			taken := randomRecords(1, false)
			if _, err := s.Insert(ctx, taken); err != nil {
				t.Fatal(err)
			}
			batch := randomRecords(n, false)
			at := n / 2
			batch[at].ID = bytes.Clone(taken[0].ID)
			out, err := s.Insert(ctx, batch)
			if err != nil {
				t.Fatalf("Insert(%d records, one ID taken) error = %v", n, err)
			}
			for i, o := range out {
				want := store.Inserted
				if i == at {
					want = store.Collision
				}
				if o.Status != want {
					t.Errorf("Insert() outcome[%d] = %v, want %v", i, o.Status, want)
				}
			}
			for i, r := range batch {
				got, err := s.Get(ctx, r.Class, r.ID)
				if err != nil {
					t.Fatalf("Get(record %d) error = %v", i, err)
				}
				want := r.Ciphertext
				if i == at {
					want = taken[0].Ciphertext
				}
				if !bytes.Equal(got.Ciphertext, want) {
					t.Errorf("Get(record %d) ciphertext differs from the one written", i)
				}
			}
		})
	}
}

// A large batch without a taken ID is written whole, each record as given.
func TestLargeBatchWritten(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	batch := randomRecords(500, false)
	out, err := s.Insert(ctx, batch)
	if err != nil {
		t.Fatalf("Insert(500 records) error = %v", err)
	}
	refs := make([]store.Ref, len(batch))
	for i, r := range batch {
		if out[i].Status != store.Inserted || !bytes.Equal(out[i].ID, r.ID) {
			t.Errorf("Insert() outcome[%d] = %v %x, want Inserted %x", i, out[i].Status, out[i].ID, r.ID)
		}
		refs[i] = store.Ref{Class: r.Class, ID: r.ID}
	}
	got, err := s.GetMany(ctx, refs)
	if err != nil {
		t.Fatalf("GetMany() error = %v", err)
	}
	for i, r := range got {
		if !bytes.Equal(r.Ciphertext, batch[i].Ciphertext) || !r.CreatedAt.Equal(batch[i].CreatedAt.Truncate(0)) {
			t.Errorf("GetMany()[%d] = %+v, want the record written", i, r)
		}
	}
}

// Unary inserts made at once (written in shared group statements) of one
// deterministic value all get the same token, exactly one of them written;
// the others' own random records are all written.
func TestConcurrentUnaryInserts(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	const n = 24
	index := bytes.Repeat([]byte{7}, 32)
	outs := make([]store.Outcome, n)
	plain := make([][]store.Record, n)
	plainOut := make([][]store.Outcome, n)
	errs := make([]error, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r := randomRecords(1, true)
			r[0].Index = index
			var out []store.Outcome
			out, errs[i] = s.Insert(ctx, r)
			if errs[i] == nil {
				outs[i] = out[0]
			}
		}()
		go func() {
			defer wg.Done()
			plain[i] = randomRecords(2, false)
			plainOut[i], errs[n+i] = s.Insert(ctx, plain[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Insert() #%d error = %v", i, err)
		}
	}
	inserted := 0
	for i, o := range outs {
		if o.Status == store.Inserted {
			inserted++
		}
		if !bytes.Equal(o.ID, outs[0].ID) {
			t.Errorf("Insert() #%d of one deterministic value = %x, want %x (one token)", i, o.ID, outs[0].ID)
		}
	}
	if inserted != 1 {
		t.Errorf("%d inserts of one deterministic value wrote %d records, want 1", n, inserted)
	}
	for i := range n {
		for j, o := range plainOut[i] {
			if o.Status != store.Inserted {
				t.Errorf("Insert() #%d random record %d = %v, want Inserted", i, j, o.Status)
			}
			if _, err := s.Get(ctx, plain[i][j].Class, plain[i][j].ID); err != nil {
				t.Errorf("Get(random record %d/%d) error = %v", i, j, err)
			}
		}
	}
}

// An insert the database refuses (a class name that is not valid UTF-8)
// fails alone: unary inserts made at the same time, which may share its
// group statement, are written.
func TestGroupRefusalIsolated(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	const n = 16
	errs := make([]error, n)
	recs := make([][]store.Record, n)
	var wg sync.WaitGroup
	for i := range n {
		recs[i] = randomRecords(1, false)
		if i == 5 {
			recs[i][0].Class = "bad\xff"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Insert(ctx, recs[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i == 5 {
			if err == nil {
				t.Errorf("Insert(invalid class) error = nil, want the database's refusal")
			}
			continue
		}
		if err != nil {
			t.Errorf("Insert() #%d error = %v, want nil (only #5 is refused)", i, err)
			continue
		}
		if _, err := s.Get(ctx, recs[i][0].Class, recs[i][0].ID); err != nil {
			t.Errorf("Get(record of insert #%d) error = %v", i, err)
		}
	}
}

// A large batch without indexes (written by binary COPY on PostgreSQL)
// keeps every field: key version, times, expiry or none, subject or none.
func TestLargeBatchKeepsFields(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	batch := randomRecords(100, false)
	for i := range batch {
		batch[i].KeyVersion = uint32(i%3 + 1)
		batch[i].CreatedAt = time.Unix(1700000000, int64(i)).UTC()
		if i%2 == 0 {
			batch[i].ExpiresAt = time.Unix(1800000000, int64(i)).UTC()
			batch[i].Subject = []byte{byte(i), 0xfe, 0x00}
		}
	}
	if _, err := s.Insert(ctx, batch); err != nil {
		t.Fatalf("Insert(100 records) error = %v", err)
	}
	for i, want := range batch {
		got, err := s.Get(ctx, want.Class, want.ID)
		if err != nil {
			t.Fatalf("Get(record %d) error = %v", i, err)
		}
		if got.KeyVersion != want.KeyVersion || !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
			!bytes.Equal(got.Subject, want.Subject) || !bytes.Equal(got.Ciphertext, want.Ciphertext) || got.Index != nil {
			t.Errorf("Get(record %d) = %+v, want %+v", i, got, want)
		}
	}
}

// GetMany of 1,000 refs (several queries at once) over two classes, with
// refs asked twice and refs not stored, answers each position as Get does.
func TestGetManyLarge(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	a, b := randomRecords(700, false), randomRecords(200, false)
	for i := range b {
		b[i].Class = "other"
	}
	for _, batch := range [][]store.Record{a, b} {
		if _, err := s.Insert(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	var refs []store.Ref
	var want []store.Record
	for i := range 1000 {
		var r store.Record
		switch {
		case i%10 == 9:
			r = randomRecords(1, false)[0] // not stored
		case i%3 == 0:
			r = b[i%len(b)]
		default:
			r = a[(i*7)%len(a)] // some asked twice
		}
		refs = append(refs, store.Ref{Class: r.Class, ID: r.ID})
		if i%10 != 9 {
			want = append(want, r)
		} else {
			want = append(want, store.Record{})
		}
	}
	got, err := s.GetMany(ctx, refs)
	if err != nil || len(got) != len(refs) {
		t.Fatalf("GetMany(1,000 refs) = %d records, %v; want %d", len(got), err, len(refs))
	}
	for i := range want {
		if got[i].Class != want[i].Class || !bytes.Equal(got[i].ID, want[i].ID) || !bytes.Equal(got[i].Ciphertext, want[i].Ciphertext) ||
			!got[i].CreatedAt.Equal(want[i].CreatedAt.Truncate(0)) || got[i].KeyVersion != want[i].KeyVersion {
			t.Errorf("GetMany()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}
