package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/privacyvault/privacyvault/store"
)

// purgeKey is a key Delete writes with its deletion and its purge drops.
// Badger's DropPrefix drops nothing unless a key under the prefix is live,
// so dropping the deleted record's own key would neither flush the
// memtables nor compact the versions and delete markers of its key and
// index entry away: dropping this key does the first (and removes it), so
// the compaction that follows (Flatten) finds them together and drops them.
var purgeKey = []byte{prefixPurge}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, r store.Record) error {
	if err := s.use(ctx); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	// Under the write lock, like every write, so it cannot conflict with
	// the committer's group transaction (see commitGroup).
	err := s.update(func(txn *bdb.Txn) error {
		cur, err := get(txn, r.Class, r.ID)
		if err != nil {
			return err
		}
		if cur.KeyVersion != r.KeyVersion || !bytes.Equal(cur.Ciphertext, r.Ciphertext) {
			return store.ErrChanged
		}
		if err := deleteRecord(txn, cur); err != nil {
			return err
		}
		// Live until the purge drops it: see purgeKey.
		return txn.Set(purgeKey, nil)
	})
	if errors.Is(err, store.ErrChanged) || errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store/badger: delete: %w", err)
	}
	// The value is sealed under the class key, which stays: only purging
	// the old versions takes the ciphertext off the disk.
	if err := s.purgeDisk(purgeKey); err != nil {
		return fmt.Errorf("store/badger: delete: purge: %w", err)
	}
	return nil
}
