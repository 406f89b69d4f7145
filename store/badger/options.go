package badger

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	bdb "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/privacyvault/privacyvault/internal/durable"
)

// sidecarOptions sizes Badger for a sidecar, which shares its node with
// the service it serves, rather than Badger's server-sized defaults (64
// MiB memtables, 256 MiB block cache, 4 compactors). It decides, from
// what dir holds, whether tables are compressed (see compressionOf).
func sidecarOptions(o Options) (bdb.Options, error) {
	compression, err := compressionOf(o.Dir)
	if err != nil {
		return bdb.Options{}, err
	}
	opts := bdb.DefaultOptions(o.Dir).
		// The store syncs what it wrote (durability): Badger's SyncWrites
		// would also sync the value log after every write.
		WithSyncWrites(false).
		// Table builders take buffers from a pool that keeps up to 8 of
		// them, each as large as the largest table it built (twice the
		// target size to start with, the memtable's for level 0): small
		// tables of one size at every level (multiplier 1) keep the
		// pool small.
		WithMemTableSize(4 << 20).
		WithNumMemtables(2).
		WithBaseTableSize(1 << 20).
		// Random token ids are random keys: every level-0 table overlaps the
		// whole base level, and every table of a level overlaps
		// LevelSizeMultiplier tables of the next. Levels 4 times apart, not
		// 10, cut the bytes written while loading 1,000,000 tokens from 690
		// to 395 MiB (BenchmarkLoad). Each level-0 compaction rewrites the
		// whole base level, and its overflow cascades down every level at
		// once, each table moved rewriting the 4 below it: at eight level-0
		// tables a compaction the sidecar's load of 1,000,000 ran three such
		// bursts (26, 75 and 76-86 MiB over a tenth's 20-23 MiB, in the 3rd,
		// 6th and 8th-9th 100k), each up to a tenth's CPU on 2 cores.
		// Sixteen (about half a million tokens) run one (53 MiB, in the 6th
		// 100k; the next comes near 1.05-1.1 M) and write 35% fewer bytes
		// for 15-25% less store CPU over 1,000,000 and 2,000,000 records
		// (BenchmarkLoad: 258 against 394 MiB, 832 against 1,250). Stall at
		// 32, twice the trigger: flushes go on while a compaction runs.
		// Writes hardly ever wait on Badger either way (block profile of a
		// 1,000,000-record load and of 1,000 single-caller batches: 0-84 ms
		// in all waiting for a memtable slot or for level 0), so a batch's
		// tail is CPU, compaction bursts and neighbours, and fewer bursts
		// are what options can do for it. The cost is a lookup's: it checks
		// the Bloom filter of every level-0 table, up to 16
		// (BenchmarkGetMany, 380,000 records: 14 level-0 tables against 6
		// and a level, 6.4-7.3 against 5.3-6.2 ms CPU per 1,000 before the
		// compaction; 4.1-4.6 against 5.0-5.4 just after it). Inserts mostly
		// skip lookups (keyFilter).
		WithNumLevelZeroTables(16).
		WithNumLevelZeroTablesStall(32).
		WithLevelSizeMultiplier(4).
		WithValueLogFileSize(64 << 20).
		// Every value (at most max_value_bytes, 64 KiB by default, sealed)
		// stays in the LSM tree, so erasure's DropPrefix and Flatten
		// remove it; the threshold must stay under Badger's batch limit,
		// 15% of the memtable.
		WithValueThreshold(512 << 10).
		WithCompression(compression).
		// 16 KiB blocks: a quarter of the index entries of 4 KiB ones.
		WithBlockSize(16 << 10).
		// Uncompressed, unencrypted tables are read in place from their
		// mapping, and their indexes and Bloom filters too: no cache
		// holds copies.
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		// Badger's minimum; the first one is dedicated to level 0.
		WithNumCompactors(2).
		// Every insert first looks its key up (a token id taken, a
		// deterministic index present), and a lookup that misses checks
		// the Bloom filter of every table that may hold the key: at 1%
		// false positives a tenth of them searched a table for nothing.
		WithBloomFalsePositive(0.001).
		// Every write transaction runs under Store.wmu, so none can
		// conflict with another: Badger's conflict tracking (read-key
		// hashes, committed-transaction lists) is work for nothing, and
		// its expvar metrics are read by no one.
		WithDetectConflicts(false).
		WithMetricsEnabled(false).
		WithLogger(badgerLogger{o.Logger})
	opts.TableSizeMultiplier = 1
	if compression != options.None {
		// A store written compressed reads through decompressed copies
		// of its blocks: keep a small cache of them, as before.
		opts = opts.WithBlockCacheSize(4 << 20).WithIndexCacheSize(8 << 20)
	}
	return opts, nil
}

// compressionFile names, inside the database directory, the file that
// says how its tables are compressed: Badger applies one setting to every
// table it opens and records none, so a store keeps the setting it was
// created with.
const compressionFile = "PRIVACYVAULT-COMPRESSION"

// compressionOf returns the table compression of the store in dir. New
// stores are uncompressed: their values are AES-GCM ciphertext and their
// keys random ids, so Snappy saved about 17 bytes a token (15%) but
// doubled the table builders' buffers and made every read decompress a
// block into a fresh one. A store that Badger created before the file
// existed was written with Snappy (Badger's default, used until then) and
// keeps it.
func compressionOf(dir string) (options.CompressionType, error) {
	path := filepath.Join(dir, compressionFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		switch s := strings.TrimSpace(string(b)); s {
		case "none":
			return options.None, nil
		case "snappy":
			return options.Snappy, nil
		default:
			return 0, fmt.Errorf("store/badger: %s: unknown compression %q", path, s)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return 0, fmt.Errorf("store/badger: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, bdb.ManifestFilename)); err == nil {
		return options.Snappy, writeSynced(dir, compressionFile, "snappy\n")
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("store/badger: %w", err)
	}
	return options.None, writeSynced(dir, compressionFile, "none\n")
}

// writeSynced creates dir if needed and writes name in it durably (file
// and directory synced) before Badger writes anything there.
func writeSynced(dir, name, content string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store/badger: %w", err)
	}
	if err := durable.WriteFile(filepath.Join(dir, name), []byte(content), os.O_TRUNC, 0o600); err != nil {
		return fmt.Errorf("store/badger: writing %s: %w", name, err)
	}
	return nil
}
