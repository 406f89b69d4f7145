package badger

import (
	"errors"
	"fmt"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/privacyvault/privacyvault/store"
)

// inValueLog reports whether Badger keeps r's value in the value log
// rather than in the tree: values at or over the threshold go there.
func (s *Store) inValueLog(r store.Record) bool {
	return int64(len(encodeRecord(r))) >= s.opts.ValueThreshold
}

// rotateValueLog makes the value-log bytes of deleted records leave the
// disk. Value-log GC never rewrites the file Badger is appending to, and
// a large value erased soon after it was written is still in that file;
// Badger starts a new file on every open, so the store is closed and
// reopened (callers wait on the lock meanwhile), and GC then rewrites
// the old files, whose deleted values purgeDisk's compaction has counted
// as discardable, and deletes them.
func (s *Store) rotateValueLog() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reopen(); err != nil {
		return err
	}
	return s.valueLogGC()
}

// reopen closes and reopens the database; s.mu must be held.
func (s *Store) reopen() error {
	// The committer may still be syncing a group it decided under the
	// read lock: wait for it before closing the database under it.
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	if err := s.db.Close(); err != nil {
		s.closed = true
		return fmt.Errorf("closing to rotate the value log: %w", err)
	}
	db, err := bdb.Open(s.opts)
	if err != nil {
		s.closed = true
		return fmt.Errorf("reopening after rotating the value log: %w", err)
	}
	s.db = db
	// Badger flushed the old memtables on close and started a new one.
	return s.dur.syncAll()
}

// valueLogGC rewrites value-log files until none has anything to discard.
// Badger deletes a rewritten file at once unless an iterator is open, and
// without SyncWrites the rewrite is not durable yet then: an open iterator
// keeps the old file until syncBoth has made the rewrite durable.
func (s *Store) valueLogGC() error {
	for {
		txn := s.db.NewTransaction(false)
		it := txn.NewIterator(bdb.IteratorOptions{})
		err := s.db.RunValueLogGC(0.01)
		if err == nil {
			err = s.syncBoth()
		}
		it.Close() // deletes the rewritten file
		txn.Discard()
		if errors.Is(err, bdb.ErrNoRewrite) || errors.Is(err, bdb.ErrGCInMemoryMode) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
