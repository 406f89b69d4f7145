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
	"github.com/dgraph-io/badger/v4/skl"

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

// The write-side sizes of sidecarOptions, each checked against the reason
// it was chosen (its measurements are in options.go's comments).

func testSidecarOptions(t *testing.T) bdb.Options {
	t.Helper()
	o, err := sidecarOptions(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// memtableArena is the skiplist arena Badger allocates (Go heap) for each
// memtable: the memtable size, plus room for one largest batch (15% of it)
// and its nodes.
func memtableArena(o bdb.Options) int64 {
	batch := o.MemTableSize * 15 / 100
	return o.MemTableSize + batch + batch/int64(skl.MaxNodeSize)*int64(skl.MaxNodeSize)
}

// Badger holds the memtable being written, the one being flushed and up
// to NumMemtables full ones queued for their flush, all on the Go heap:
// together they stay within a quarter of the sidecar's default 96 MiB
// heap limit, beside the ~50 MiB live heap of a million tokens loading.
func TestMemtablesFitTheHeapBudget(t *testing.T) {
	const budget = 24 << 20
	o := testSidecarOptions(t)
	if got := int64(o.NumMemtables+2) * memtableArena(o); got > budget {
		t.Errorf("memtables at once = %d × %d B = %d B, want at most %d B", o.NumMemtables+2, memtableArena(o), got, budget)
	}
}

// A level-0 compaction takes the level-0 tables present when it starts;
// writes stall only when as many again have been flushed before it ends.
func TestLevelZeroStallLeavesACompactionsWorthOfFlushes(t *testing.T) {
	o := testSidecarOptions(t)
	if o.NumLevelZeroTablesStall < 2*o.NumLevelZeroTables {
		t.Errorf("NumLevelZeroTablesStall = %d, want at least 2 × NumLevelZeroTables (%d)", o.NumLevelZeroTablesStall, o.NumLevelZeroTables)
	}
}

// With random keys each level-0 compaction rewrites the whole base level
// and sets off compactions down every level below it, whatever it
// carries: it carries at least 64 MiB of memtables (about half a million
// tokens of the bench's shape, whose records take about 100 bytes in a
// table), so that loading a million tokens runs one such burst, not three.
func TestLevelZeroCompactionCarriesHalfAMillionTokens(t *testing.T) {
	o := testSidecarOptions(t)
	if got := int64(o.NumLevelZeroTables) * o.MemTableSize; got < 64<<20 {
		t.Errorf("NumLevelZeroTables × MemTableSize = %d × %d B = %d B, want at least 64 MiB", o.NumLevelZeroTables, o.MemTableSize, got)
	}
}

// Two compactors is the least Badger takes besides none (it refuses one);
// more would run more compactions beside each other on a 2-core node,
// against the requests.
func TestTwoCompactorsTheLeastBadgerTakes(t *testing.T) {
	o := testSidecarOptions(t)
	if o.NumCompactors != 2 {
		t.Errorf("NumCompactors = %d, want 2", o.NumCompactors)
	}
	o.NumCompactors = 1
	if db, err := bdb.Open(o); err == nil {
		db.Close()
		t.Errorf("bdb.Open(NumCompactors 1) = nil error, want Badger's refusal")
	}
}

// Every value stays in the LSM tree (erasure drops it from there), which
// needs the value threshold over the largest value and under Badger's
// batch limit, 15% of the memtable.
func TestValuesStayInTheTree(t *testing.T) {
	o := testSidecarOptions(t)
	if limit := o.MemTableSize * 15 / 100; o.ValueThreshold > limit {
		t.Errorf("ValueThreshold = %d, want at most 15%% of the memtable (%d)", o.ValueThreshold, limit)
	}
	if o.ValueThreshold < 64<<10+1024 {
		t.Errorf("ValueThreshold = %d, want over the default largest value (64 KiB) and its sealing", o.ValueThreshold)
	}
}
