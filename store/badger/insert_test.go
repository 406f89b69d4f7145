package badger

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// A call large enough to be prepared on several goroutines stores every
// record as given — random, deterministic, with and without a subject
// and an expiry — and decides in record order across the chunks: the
// second record of an index already in the call (in another chunk) gets
// the first one's ID, and an ID given twice collides. The same holds when
// the call is cut into many transactions (txnEntries), each record's
// entries in one of them.
func TestInsertLargeCallPreparedInChunks(t *testing.T) {
	tests := []struct {
		name       string
		txnEntries int // 0: the store's own budget
	}{
		{"one transaction", 0},
		{"seven entries a transaction", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkLargeCall(t, tt.txnEntries) })
	}
}

func checkLargeCall(t *testing.T, txnEntries int) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer s.Close()
	s.wmu.Lock()
	s.txnEntries = cmp.Or(txnEntries, s.txnEntries)
	s.wmu.Unlock()
	ctx := context.Background()
	const n = 400
	recs := make([]store.Record, n)
	for i := range recs {
		r := store.Record{Class: []string{"email", "card"}[i%2], ID: []byte(fmt.Sprintf("id-%05d", i)), KeyVersion: uint32(i%3 + 1),
			Ciphertext: bytes.Repeat([]byte{byte(i)}, 20+i%40), CreatedAt: time.Unix(1700000000, int64(i)).UTC()}
		if i%4 == 1 {
			r.Index = []byte(fmt.Sprintf("index-%05d", i))
		}
		if i%5 == 2 {
			r.Subject = []byte(fmt.Sprintf("subject-%d", i%7))
		}
		if i%6 == 3 {
			r.ExpiresAt = time.Unix(1800000000, int64(i)).UTC()
		}
		recs[i] = r
	}
	recs[n-3].Class, recs[n-3].Index = recs[1].Class, recs[1].Index // same index as record 1
	recs[n-1].Class, recs[n-1].ID = recs[0].Class, recs[0].ID       // same ID as record 0
	out, err := s.Insert(ctx, recs)
	if err != nil {
		t.Fatalf("Insert() error = %v", err)
	}
	for i, o := range out {
		want := store.Outcome{Status: store.Inserted, ID: recs[i].ID}
		switch i {
		case n - 3:
			want = store.Outcome{Status: store.Existing, ID: recs[1].ID}
		case n - 1:
			want = store.Outcome{Status: store.Collision}
		}
		if o.Status != want.Status || !bytes.Equal(o.ID, want.ID) {
			t.Errorf("Insert()[%d] = %v %q, want %v %q", i, o.Status, o.ID, want.Status, want.ID)
		}
		if o.Status != store.Inserted {
			continue
		}
		got, err := s.Get(ctx, recs[i].Class, recs[i].ID)
		if err != nil || !sameRecord(got, recs[i]) {
			t.Errorf("Get(%d) = %+v, %v, want %+v", i, got, err, recs[i])
		}
		if recs[i].Index != nil {
			if got, err := s.LookupIndex(ctx, recs[i].Class, recs[i].Index); err != nil || !bytes.Equal(got.ID, recs[i].ID) {
				t.Errorf("LookupIndex(%d) = %+v, %v, want ID %q", i, got, err, recs[i].ID)
			}
		}
	}
	subj, err := s.SubjectRecords(ctx, []byte("subject-2"))
	if err != nil {
		t.Fatalf("SubjectRecords() error = %v", err)
	}
	want := 0
	for i, r := range recs[:n-3] {
		if bytes.Equal(r.Subject, []byte("subject-2")) && out[i].Status == store.Inserted {
			want++
		}
	}
	if len(subj) != want || want == 0 {
		t.Errorf("SubjectRecords(subject-2) = %d records, want %d", len(subj), want)
	}
}
