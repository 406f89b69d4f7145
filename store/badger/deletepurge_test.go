package badger

import (
	"context"
	"testing"

	"github.com/privacyvault/privacyvault/store"
)

// TestDeletePurgesEveryVersion: after Delete no version of the record's
// key is left, nor of its index entry — whether the record was still in
// the memtable or already in a table, indexed by its ID, rectified (two
// versions and an index entry) or with a random ID and an index entry.
// The deletion receipt says so (DeletionRemains: "every older version
// dropped"), and the versions hold the sealed value and the whole index.
func TestDeletePurgesEveryVersion(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir)
	defer func() { s.Close() }()
	ctx := context.Background()
	for _, reopened := range []bool{false, true} {
		one, fixed, random := indexedRecord("det", randomBytes(32)), indexedRecord("det", randomBytes(32)), rec("det", randomBytes(32), nil)
		if _, err := s.Insert(ctx, []store.Record{one, fixed, random}); err != nil {
			t.Fatal(err)
		}
		rectified := fixed
		rectified.Index, rectified.Ciphertext = randomBytes(32), randomBytes(58)
		if err := s.Rectify(ctx, fixed, rectified); err != nil {
			t.Fatal(err)
		}
		if reopened {
			s = reopen(t, s, dir)
		}
		tests := []struct {
			name string
			r    store.Record
		}{
			{"indexed by its ID", one},
			{"rectified", rectified},
			{"random ID", random},
		}
		for _, tt := range tests {
			if err := s.Delete(ctx, tt.r); err != nil {
				t.Fatalf("Delete(%s) = %v", tt.name, err)
			}
			if n := countKeys(t, s, recordKey("det", tt.r.ID), true); n != 0 {
				t.Errorf("reopened %v: versions of the deleted %s record's key = %d, want 0", reopened, tt.name, n)
			}
			if n := countKeys(t, s, indexKey("det", tt.r.Index), true); n != 0 {
				t.Errorf("reopened %v: versions of the deleted %s record's index key = %d, want 0", reopened, tt.name, n)
			}
		}
	}
}
