package badger

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	bdb "github.com/dgraph-io/badger/v4"
)

// prefixJournal starts the keys of the audit journal: prefix | seq as 8
// bytes big-endian, so they sort in seq order. No other key starts with
// it (see codec.go), so no record, index, subject or meta key can collide.
const prefixJournal = 'j'

func journalKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixJournal}, seq)
}

// trimChunk bounds the deletes of one trim transaction, well under
// Badger's transaction limits.
const trimChunk = 1000

// Journal is the audit log's journal in the store (audit.Journal): the
// lines of audit events, which hold fingerprints only, never values or
// tokens. A Put is a write transaction like an insert group's and is made
// durable by the store's syncer, so one WAL fdatasync covers the lines and
// every insert committed before them — the records of the calls whose
// events they are, as a call appends its event only once the store has
// decided its records.
type Journal struct {
	s *Store

	mu      sync.Mutex
	trimmed uint64 // every line up to here is deleted

	puts sync.Pool // of *journalPut
}

// Journal returns the store's audit journal.
func (s *Store) Journal() *Journal {
	j := &Journal{s: s}
	j.puts.New = func() any { return newJournalPut(&j.puts) }
	return j
}

// Put stores lines as the seqs first, first+1, … and returns a wait that
// returns once they are durable (and everything committed before them);
// wait must be called once.
//
// A put takes no durability number of its own (durability.begin), so
// readers, which never read the journal, do not wait for its sync: it
// carries the number of the last write begun before it, every one of
// which has committed (the write lock is held), and is synced even if
// that number is durable already.
//
// Put waits for the write lock only while the committer holds it (for a
// group's decisions and commit, never a sync), so the put comes after
// that group's commit and shares its sync. Any other holder — a write
// syncing on its own (update), value-log GC, the filter fill — may keep
// it for a sync or longer: Put then stores nothing and returns a nil
// wait and nil error, and the Log writes the batch to its file instead.
// (Another write may still take the lock between the committer's release
// and Put's: that put waits for it, as every put did before.)
func (j *Journal) Put(first uint64, lines [][]byte) (wait func() error, err error) {
	s := j.s
	if err := s.use(context.Background()); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if !s.wmu.TryLock() {
		if s.dur.committing.Load() == 0 {
			return nil, nil
		}
		s.wmu.Lock()
	}
	defer s.wmu.Unlock()
	s.dur.mu.Lock()
	n, err := s.dur.started, s.dur.err
	s.dur.mu.Unlock()
	if err != nil {
		return nil, err
	}
	p := j.puts.Get().(*journalPut)
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	p.keys = p.keys[:0]
	for i := range lines {
		p.keys = binary.BigEndian.AppendUint64(append(p.keys, prefixJournal), first+uint64(i))
	}
	for i, line := range lines {
		// Badger copies the key at commit (with its version), so the
		// buffer is free again once Commit returns.
		if err = txn.Set(p.keys[9*i:9*i+9:9*i+9], line); err != nil {
			break
		}
	}
	if err == nil {
		err = txn.Commit()
	}
	if err != nil {
		j.puts.Put(p)
		return nil, fmt.Errorf("store/badger: journal: %w", err)
	}
	// The syncer answers it like an insert whose caller waits: at once,
	// with one sync for it and every commit queued before it (under the
	// write lock, so in commit order).
	p.req.wanted.Store(true)
	// No kick (durability.demand): the syncer sees the request wanted as
	// it arrives, and a kick would stay behind to sync the next insert
	// group on its own.
	s.syncs <- pendingSync{n: n, force: true, answer: p.answer[:]}
	return p.wait, nil
}

// journalPut is what a Put needs beyond Badger's transaction, reused
// (Journal.puts) so a put allocates only in Badger: the request the
// syncer answers, its wait, and the keys' bytes.
type journalPut struct {
	req    insertReq
	answer [1]*insertReq
	wait   func() error
	keys   []byte
}

func newJournalPut(pool *sync.Pool) *journalPut {
	p := &journalPut{req: insertReq{durable: make(chan error, 1)}}
	p.answer[0] = &p.req
	// The syncer's send on durable is its last use of the request, so
	// once the caller has received it the put can be reused.
	p.wait = func() error {
		err := <-p.req.durable
		pool.Put(p)
		return err
	}
	return p
}

// Shares reports whether the store has insert transactions the sync of
// a Put now would make durable too: being decided or committed by the
// committer, or committed and waiting for a sync (durability.queued; the
// committer counts a group before it answers any of its inserts, so a
// call's event never comes before its records are counted). It never
// waits — not for the write lock, which another write may hold through
// its own sync. A wrong answer costs a sync, never durability: "no" sends
// the batch to the file, "yes" makes the put sync on its own.
func (j *Journal) Shares() bool {
	d := j.s.dur
	if d.queued.Load() <= 0 {
		return false
	}
	d.mu.Lock() // held only briefly, never across a sync
	defer d.mu.Unlock()
	return d.err == nil
}

// Lines calls fn with every line after seq after, in seq order.
func (j *Journal) Lines(after uint64, fn func(seq uint64, line []byte) error) error {
	s := j.s
	if err := s.use(context.Background()); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if after == math.MaxUint64 {
		return nil
	}
	return s.db.View(func(txn *bdb.Txn) error {
		prefix := []byte{prefixJournal}
		it := txn.NewIterator(bdb.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: prefix})
		defer it.Close()
		for it.Seek(journalKey(after + 1)); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) != 9 {
				return fmt.Errorf("store/badger: journal: malformed key of %d bytes", len(k))
			}
			line, err := item.ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("store/badger: journal: %w", err)
			}
			if err := fn(binary.BigEndian.Uint64(k[1:]), line); err != nil {
				return err
			}
		}
		return nil
	})
}

// Trim deletes the lines up to seq upto. The deletes are not synced on
// their own: the next sync of the store covers them, and a line that
// comes back after a crash is one the audit log file already holds.
func (j *Journal) Trim(upto uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for {
		keys, full, err := j.keys(j.trimmed, upto)
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := j.delete(keys); err != nil {
				return err
			}
		}
		switch {
		case full:
			j.trimmed = binary.BigEndian.Uint64(keys[len(keys)-1][1:])
		case upto == math.MaxUint64:
			// Everything went (a reset): the next lines may have lower
			// seqs than the ones dropped.
			j.trimmed = 0
			return nil
		default:
			j.trimmed = max(j.trimmed, upto)
			return nil
		}
	}
}

// keys returns the keys of the lines after seq from up to seq upto, at
// most trimChunk of them (full says the chunk is full).
func (j *Journal) keys(from, upto uint64) (keys [][]byte, full bool, err error) {
	s := j.s
	if err := s.use(context.Background()); err != nil {
		return nil, false, err
	}
	defer s.mu.RUnlock()
	err = s.db.View(func(txn *bdb.Txn) error {
		prefix := []byte{prefixJournal}
		it := txn.NewIterator(bdb.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Seek(journalKey(from + 1)); it.ValidForPrefix(prefix) && len(keys) < trimChunk; it.Next() {
			k := it.Item().KeyCopy(nil)
			if binary.BigEndian.Uint64(k[1:]) > upto {
				break
			}
			keys = append(keys, k)
		}
		return nil
	})
	return keys, len(keys) == trimChunk, err
}

func (j *Journal) delete(keys [][]byte) error {
	s := j.s
	if err := s.use(context.Background()); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	// Under the write lock like every write (DropPrefix blocks writes
	// while it holds it).
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err := s.db.Update(func(txn *bdb.Txn) error {
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store/badger: journal trim: %w", err)
	}
	return nil
}
