package badger

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/privacyvault/privacyvault/store"
)

// minChunk is the fewest keys a lookup hands to a goroutine of its own:
// below it, starting one costs more than it saves.
const minChunk = 64

// probe is one key to look up and where its answer goes.
type probe struct {
	key []byte
	pos int
}

// lookupAll looks every probe up and calls found, on the goroutine that
// read it, for each that is stored. Probes are read in key order (keys
// next to each other share the tables, index blocks and skiplist towers
// the search passes through, so fewer cache misses), in contiguous chunks
// over GOMAXPROCS goroutines: a batch of 1,000 random keys is a thousand
// independent searches of the whole tree. The goroutines share one read
// transaction, so the whole batch is read at one read timestamp (Badger's
// read-only Get only reads what the transaction fixed when it began).
// found must be safe to call concurrently for different positions.
// lookupAll does not wait for durability: Store.view's callers do.
func (s *Store) lookupAll(probes []probe, found func(pos int, item *bdb.Item) error) error {
	slices.SortFunc(probes, func(a, b probe) int { return bytes.Compare(a.key, b.key) })
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	read := func(part []probe) error {
		for _, p := range part {
			item, err := txn.Get(p.key)
			if errors.Is(err, bdb.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if err := found(p.pos, item); err != nil {
				return err
			}
		}
		return nil
	}
	w := min(runtime.GOMAXPROCS(0), len(probes)/minChunk)
	if w <= 1 {
		return read(probes)
	}
	size := (len(probes) + w - 1) / w
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for lo := size; lo < len(probes); lo += size {
		wg.Go(func() {
			if err := read(probes[lo:min(lo+size, len(probes))]); err != nil {
				mu.Lock()
				first = cmpOr(first, err)
				mu.Unlock()
			}
		})
	}
	err := read(probes[:size])
	wg.Wait()
	return cmpOr(err, first)
}

// cmpOr returns the first non-nil error.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// getMany reads the records refs name into a slice of the same length
// (zero records for those not stored).
func (s *Store) getMany(refs []store.Ref) ([]store.Record, error) {
	n := 0
	for _, r := range refs {
		n += 2 + len(r.Class) + len(r.ID)
	}
	buf := make([]byte, 0, n) // every key, in one allocation
	probes := make([]probe, len(refs))
	for i, r := range refs {
		start := len(buf)
		buf = appendKey(buf, prefixRecord, r.Class, r.ID)
		probes[i] = probe{key: buf[start:len(buf):len(buf)], pos: i}
	}
	out := make([]store.Record, len(refs))
	err := s.lookupAll(probes, func(pos int, item *bdb.Item) error {
		return item.Value(func(v []byte) error {
			var err error
			out[pos], err = decodeRecord(refs[pos].Class, refs[pos].ID, v)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store/badger: get: %w", err)
	}
	return out, nil
}
