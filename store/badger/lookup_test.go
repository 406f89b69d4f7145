package badger

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// A GetMany large enough to be read on several goroutines, in key order,
// answers every ref at its own position: stored records of two classes,
// missing ids, a foreign class and the same ref twice.
func TestGetManyLargeKeepsOrder(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	const n = 600
	var recs []store.Record
	for i := range n {
		class := []string{"email", "card"}[i%2]
		recs = append(recs, store.Record{Class: class, ID: []byte(fmt.Sprintf("id-%04d", (i*7919)%n)), KeyVersion: uint32(i + 1),
			Ciphertext: []byte(fmt.Sprintf("sealed-%d", i)), CreatedAt: time.Unix(1700000000, int64(i)).UTC()})
	}
	if _, err := s.Insert(ctx, recs); err != nil {
		t.Fatalf("Insert() error = %v", err)
	}
	var refs []store.Ref
	var want []*store.Record
	for i := n - 1; i >= 0; i-- { // the reverse of insertion, and of key order in parts
		r := &recs[i]
		refs = append(refs, store.Ref{Class: r.Class, ID: r.ID})
		want = append(want, r)
		if i%5 == 0 {
			refs = append(refs, store.Ref{Class: r.Class, ID: []byte(fmt.Sprintf("missing-%d", i))}, store.Ref{Class: "other", ID: r.ID}, store.Ref{Class: r.Class, ID: r.ID})
			want = append(want, nil, nil, r)
		}
	}
	got, err := s.GetMany(ctx, refs)
	if err != nil || len(got) != len(refs) {
		t.Fatalf("GetMany(%d refs) = %d records, %v", len(refs), len(got), err)
	}
	for i, w := range want {
		g := got[i]
		if w == nil {
			if g.ID != nil {
				t.Errorf("GetMany()[%d] (%s/%s) = record %s, want none", i, refs[i].Class, refs[i].ID, g.ID)
			}
			continue
		}
		if g.Class != w.Class || !bytes.Equal(g.ID, w.ID) || g.KeyVersion != w.KeyVersion || !bytes.Equal(g.Ciphertext, w.Ciphertext) || !g.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("GetMany()[%d] = %s/%s v%d %q, want %s/%s v%d %q", i, g.Class, g.ID, g.KeyVersion, g.Ciphertext, w.Class, w.ID, w.KeyVersion, w.Ciphertext)
		}
	}
}
