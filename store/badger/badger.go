// Package badger is the embedded store: Badger v4 with synchronous writes
// (made durable by the store itself, see durability), sized for a sidecar.
package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	bdb "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/skl"

	"github.com/privacyvault/privacyvault/store"
)

var _ store.Store = (*Store)(nil)

// maxConflictRetries bounds retries of a transaction that lost a race with a
// concurrent one; each retry re-reads, so the outcome stays exact.
const maxConflictRetries = 16

// Options configures Open.
type Options struct {
	// Dir is the database directory; it is created if missing.
	Dir string
	// Logger receives Badger's own warnings and errors. Nil discards them.
	Logger *slog.Logger
}

// Store is a store.Store on Badger v4.
type Store struct {
	db     *bdb.DB
	opts   bdb.Options  // to reopen (see rotateValueLog)
	mu     sync.RWMutex // guards closed against use after Close
	closed bool
	// wmu serializes every write transaction, so none ever conflicts with
	// another and the committer's decisions stand (see commitGroup).
	wmu           sync.Mutex
	inserts       chan *insertReq
	stopCommitter chan struct{}
	committerDone chan struct{}
	syncs         chan pendingSync // committed insert transactions to sync
	syncerDone    chan struct{}
	txnBytes      int64 // budget of one insert transaction, under Badger's limit
	txnEntries    int
	dur           *durability
	// filter holds every record and index key stored (see keyFilter);
	// guarded by wmu. fillFilter fills it at open until stopFill.
	filter    *keyFilter
	stopFill  chan struct{}
	fillDone  chan struct{}
	closeOnce sync.Once
	log       *slog.Logger
}

// Open opens or creates the database in o.Dir. Writes are synchronous
// (fsync before Insert returns), so an acknowledged record survives kill -9.
func Open(o Options) (*Store, error) {
	opts, err := sidecarOptions(o)
	if err != nil {
		return nil, err
	}
	db, err := bdb.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("store/badger: open %s: %w", o.Dir, err)
	}
	dur, err := newDurability(o.Dir)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store/badger: open %s: %w", o.Dir, err)
	}
	st := &Store{dur: dur, filter: newKeyFilter(storedKeys(db)), stopFill: make(chan struct{}), fillDone: make(chan struct{}), log: o.Logger,
		db: db, opts: opts, inserts: make(chan *insertReq), stopCommitter: make(chan struct{}), committerDone: make(chan struct{}),
		syncs: make(chan pendingSync, maxGroup), syncerDone: make(chan struct{}),
		// Badger refuses a transaction over 15% of the memtable (bytes) or
		// that many skiplist nodes; stay at three quarters of both.
		txnBytes:   opts.MemTableSize * 15 / 100 * 3 / 4,
		txnEntries: int(opts.MemTableSize*15/100/int64(skl.MaxNodeSize)) * 3 / 4,
	}
	go st.commitLoop()
	go st.syncLoop()
	go st.fillFilter()
	return st, nil
}

// storedKeys estimates, from the tables' metadata, how many keys the
// store holds (every kind, and older versions too, so about an upper
// bound): the size of the key filter's first layer.
func storedKeys(db *bdb.DB) int {
	n := 0
	for _, t := range db.Tables() {
		n += int(t.KeyCount)
	}
	return n
}

// update runs fn in a write transaction under the write lock and makes it
// durable (the WAL and the value log, as fn may have written a large
// value).
func (s *Store) update(fn func(txn *bdb.Txn) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	n, err := s.dur.begin()
	if err != nil {
		return err
	}
	wrote := false
	defer func() { // also if fn panics: readers wait for n
		if !wrote {
			s.dur.cancel(n)
		}
	}()
	if err := s.db.Update(fn); err != nil {
		return err // nothing was written
	}
	wrote = true
	return s.dur.done(n, s.dur.syncBoth())
}

// syncBoth makes every write so far durable (after Badger's own writes:
// value-log GC).
func (s *Store) syncBoth() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	n, err := s.dur.begin()
	if err != nil {
		return err
	}
	return s.dur.done(n, s.dur.syncBoth())
}

// view runs fn in a read transaction, then waits until every write that
// began before it ended is durable, so nothing it read can be lost.
func (s *Store) view(fn func(txn *bdb.Txn) error) error {
	if err := s.db.View(fn); err != nil {
		return err
	}
	return s.dur.wait()
}

// Insert implements store.Store: InsertStaged, then wait until durable.
func (s *Store) Insert(ctx context.Context, recs []store.Record) ([]store.Outcome, error) {
	out, wait, err := s.InsertStaged(ctx, recs)
	if err != nil {
		return nil, err
	}
	if err := wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, class string, id []byte) (store.Record, error) {
	if err := s.use(ctx); err != nil {
		return store.Record{}, err
	}
	defer s.mu.RUnlock()
	var r store.Record
	err := s.view(func(txn *bdb.Txn) error {
		var err error
		r, err = get(txn, class, id)
		return err
	})
	return r, err
}

// GetMany implements store.Store: the records are read in key order, a
// large call on several goroutines (lookupAll), then the call waits, as
// view does, until everything begun before its reads ended is durable.
func (s *Store) GetMany(ctx context.Context, refs []store.Ref) ([]store.Record, error) {
	if err := s.use(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	out, err := s.getMany(refs)
	if err != nil {
		return nil, err
	}
	if err := s.dur.wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// LookupIndex implements store.Store.
func (s *Store) LookupIndex(ctx context.Context, class string, index []byte) (store.Record, error) {
	if err := s.use(ctx); err != nil {
		return store.Record{}, err
	}
	defer s.mu.RUnlock()
	var r store.Record
	err := s.view(func(txn *bdb.Txn) error {
		var err error
		r, err = lookupIndex(txn, class, index)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("store/badger: lookup: %w", err)
		}
		return err
	})
	return r, err
}

func get(txn *bdb.Txn, class string, id []byte) (store.Record, error) {
	item, err := txn.Get(recordKey(class, id))
	if errors.Is(err, bdb.ErrKeyNotFound) {
		return store.Record{}, store.ErrNotFound
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("store/badger: get: %w", err)
	}
	return itemRecord(item, class, id)
}

// itemRecord decodes the record item holds: class's record with this id
// (which it keeps, so a key copy or a caller's own slice).
func itemRecord(item *bdb.Item, class string, id []byte) (store.Record, error) {
	var r store.Record
	err := item.Value(func(v []byte) error {
		var err error
		r, err = decodeRecord(class, id, v)
		return err
	})
	return r, err
}

// Scan implements store.Store.
func (s *Store) Scan(ctx context.Context, class string, after []byte, limit int) ([]store.Record, error) {
	if err := s.use(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	prefix := recordKey(class, nil)
	var out []store.Record
	err := s.view(func(txn *bdb.Txn) error {
		it := txn.NewIterator(bdb.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: prefix})
		defer it.Close()
		start := prefix
		if after != nil {
			// The smallest key greater than prefix+after.
			start = append(recordKey(class, after), 0)
		}
		for it.Seek(start); it.ValidForPrefix(prefix) && len(out) < limit; it.Next() {
			item := it.Item()
			r, err := itemRecord(item, class, item.KeyCopy(nil)[len(prefix):])
			if err != nil {
				return fmt.Errorf("store/badger: scan: %w", err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// Replace implements store.Store.
func (s *Store) Replace(ctx context.Context, old, new store.Record) error {
	if err := s.use(ctx); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	for attempt := 0; ; attempt++ {
		err := s.update(func(txn *bdb.Txn) error {
			cur, err := get(txn, old.Class, old.ID)
			if err != nil {
				return err
			}
			if cur.KeyVersion != old.KeyVersion || !bytes.Equal(cur.Ciphertext, old.Ciphertext) {
				return store.ErrChanged
			}
			rk := recordKey(new.Class, new.ID)
			s.filter.add(recordFilterKey(rk)) // s.update holds wmu
			return txn.Set(rk, encodeRecord(new))
		})
		if errors.Is(err, bdb.ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		if err != nil && !errors.Is(err, store.ErrChanged) && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("store/badger: replace: %w", err)
		}
		return err
	}
}

// GetMeta implements store.Store.
func (s *Store) GetMeta(ctx context.Context, name string) ([]byte, error) {
	if err := s.use(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var v []byte
	err := s.view(func(txn *bdb.Txn) error {
		item, err := txn.Get(metaKey(name))
		if errors.Is(err, bdb.ErrKeyNotFound) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store/badger: meta: %w", err)
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	return v, err
}

// PutMeta implements store.Store.
func (s *Store) PutMeta(ctx context.Context, name string, value []byte) error {
	if err := s.use(ctx); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if err := s.update(func(txn *bdb.Txn) error { return txn.Set(metaKey(name), value) }); err != nil {
		return fmt.Errorf("store/badger: meta: %w", err)
	}
	return nil
}

// PutConsent implements store.Store.
func (s *Store) PutConsent(ctx context.Context, c store.Consent) error {
	if err := s.useSubject(ctx, c.Subject); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	v, err := encodeConsent(c)
	if err != nil {
		return err
	}
	if err := s.update(func(txn *bdb.Txn) error { return txn.Set(consentKey(c.Subject, c.Purpose), v) }); err != nil {
		return fmt.Errorf("store/badger: consent: %w", err)
	}
	return nil
}

// Consents implements store.Store.
func (s *Store) Consents(ctx context.Context, subject []byte) ([]store.Consent, error) {
	if err := s.useSubject(ctx, subject); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	prefix := consentKey(subject, "")
	var out []store.Consent
	err := s.view(func(txn *bdb.Txn) error {
		it := txn.NewIterator(bdb.IteratorOptions{PrefetchValues: true, Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
			var c store.Consent
			err := it.Item().Value(func(v []byte) error {
				var err error
				c, err = decodeConsent(v)
				return err
			})
			if err != nil {
				return fmt.Errorf("store/badger: consents: %w", err)
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// Close flushes and closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stopFill) })
	<-s.fillDone // the scan takes the read lock: wait before taking the lock
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.stopCommitter)
	<-s.committerDone
	close(s.syncs)
	<-s.syncerDone
	s.dur.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store/badger: close: %w", err)
	}
	return nil
}

// use checks ctx and takes the read lock that keeps Close from running
// under a call; the caller releases it.
func (s *Store) use(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	return nil
}
