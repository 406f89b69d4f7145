package badger

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bdb "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/privacyvault/privacyvault/store"
)

func TestNewStoreIsUncompressed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.opts.Compression != options.None {
		t.Errorf("new store compression = %v, want none", s.opts.Compression)
	}
	if b, err := os.ReadFile(filepath.Join(dir, compressionFile)); err != nil || string(b) != "none\n" {
		t.Errorf("%s = %q, %v; want \"none\\n\"", compressionFile, b, err)
	}
}

// A store that Badger wrote with Snappy (the setting before stores
// recorded theirs) keeps it: its records still read, and so do records
// written after the upgrade, after a reopen.
func TestStoreWrittenWithSnappyStillReads(t *testing.T) {
	dir := t.TempDir()
	old := store.Record{Class: "email", ID: []byte("0123456789abcdef"), KeyVersion: 1, CreatedAt: time.Unix(1700000000, 1).UTC(), Ciphertext: []byte(strings.Repeat("sealed ", 20))}
	db, err := bdb.Open(bdb.DefaultOptions(dir).WithCompression(options.Snappy).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *bdb.Txn) error { return txn.Set(recordKey(old.Class, old.ID), encodeV2(old, codecV2)) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Flatten(1); err != nil { // into a table, not only the memtable's log
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	added := store.Record{Class: "email", ID: []byte("fedcba9876543210"), KeyVersion: 2, CreatedAt: time.Unix(1700000001, 2).UTC(), Ciphertext: []byte("new")}
	for round := range 2 {
		s, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if s.opts.Compression != options.Snappy {
			t.Errorf("round %d: compression = %v, want snappy", round, s.opts.Compression)
		}
		if round == 0 {
			if _, err := s.Insert(ctx, []store.Record{added}); err != nil {
				t.Fatal(err)
			}
		}
		for _, want := range []store.Record{old, added} {
			if got, err := s.Get(ctx, want.Class, want.ID); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("round %d: Get(%s) = %+v, %v; want %+v", round, want.ID, got, err, want)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUnknownCompressionRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, compressionFile), []byte("lz4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(Options{Dir: dir}); err == nil {
		s.Close()
		t.Errorf("Open(store whose %s says lz4) = nil error, want an error", compressionFile)
	}
}
