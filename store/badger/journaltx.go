package badger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/store"
)

// PutTx is Put whose transaction also holds other writes: it opens a write
// transaction under the store's write lock, calls fill with it (a
// *JournalTx; fill inserts records through it and returns the lines to
// store as the seqs first, first+1, …), stores the lines and commits, so
// the records and the lines become durable together, by one WAL
// fdatasync. wait makes them durable and must be called once: it syncs on
// the caller's goroutine (no hand-off to the syncer and back), and the
// sync covers every write committed before, as a syncer's would. It
// takes no lock (a reader holding the store's read lock may wait for it),
// so it may run after Close: it then fails (durability.close).
//
// If fill returns an error, or inserts fail, nothing is committed and
// PutTx returns the error; one wrapping audit.ErrTxFull when the
// transaction outgrew Badger's limit (InsertTx's, or the lines'). Unlike
// Put it never declines: the records must be written, so it waits for
// the write lock whoever holds it.
func (j *Journal) PutTx(fill func(tx any) (first uint64, lines [][]byte, err error)) (wait func() error, err error) {
	s := j.s
	if err := s.use(context.Background()); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	n, err := s.dur.begin()
	if err != nil {
		return nil, err
	}
	tx := &JournalTx{s: s, txn: s.db.NewTransaction(true), det: detScope{db: s.db}}
	defer tx.txn.Discard()
	defer tx.det.close()
	first, lines, err := fill(tx)
	if err == nil {
		tx.keys = tx.keys[:0]
		for i := range lines {
			tx.keys = binary.BigEndian.AppendUint64(append(tx.keys, prefixJournal), first+uint64(i))
		}
		for i, line := range lines {
			if err = tx.txn.Set(tx.keys[9*i:9*i+9:9*i+9], line); err != nil {
				break
			}
		}
	}
	if errors.Is(err, bdb.ErrTxnTooBig) {
		err = fmt.Errorf("%w: %w", audit.ErrTxFull, err)
	}
	if err == nil {
		err = tx.txn.Commit()
	}
	if err != nil {
		s.dur.cancel(n) // the write lock is held: n is the last begun
		return nil, fmt.Errorf("store/badger: journal: %w", err)
	}
	// An insert group committed before, not yet synced, may have written
	// the value log: this sync marks it durable, so it syncs both files.
	big := tx.big || !s.dur.durableTo(s.dur.lastBig.Load())
	if tx.big {
		s.dur.lastBig.Store(n) // for a sync of a later write that comes first
	}
	return func() error {
		var err error
		if big {
			err = s.dur.syncBoth()
		} else {
			err = s.dur.syncWAL()
		}
		if err = s.dur.done(n, err); err != nil {
			return fmt.Errorf("store/badger: journal: %w", err)
		}
		return nil
	}, nil
}

// JournalTx is the transaction PutTx hands to its fill function: records
// inserted through it commit with the journal's lines.
type JournalTx struct {
	s    *Store
	txn  *bdb.Txn
	big  bool // a value may have gone to the value log
	keys []byte
	det  detScope
}

// InsertTx inserts recs in the transaction and returns their outcomes,
// decided as the committer decides them (commitGroup): the existing
// record's id for a deterministic index already taken, a collision for an
// id already taken, else inserted. Records are visible to later inserts of
// the same transaction and, as the write lock is held, nothing else writes
// meanwhile. An error leaves the transaction unusable: PutTx then fails
// (audit.ErrTxFull: the transaction outgrew Badger's limit).
func (t *JournalTx) InsertTx(recs []store.Record) ([]store.Outcome, error) {
	for _, r := range recs {
		if r.Subject != nil {
			if err := checkSubject(r.Subject); err != nil {
				return nil, fmt.Errorf("store/badger: insert: %w", err)
			}
		}
	}
	out := make([]store.Outcome, len(recs))
	prep := t.s.prepareAll(recs)
	for i, r := range recs {
		o, err := insertOne(t.txn, t.s.filter, &t.det, &prep[i])
		if errors.Is(err, bdb.ErrTxnTooBig) {
			return nil, fmt.Errorf("store/badger: insert: %w: %w", audit.ErrTxFull, err)
		}
		if err != nil {
			return nil, fmt.Errorf("store/badger: insert: %w", err)
		}
		out[i] = o
		t.big = t.big || t.s.mayUseValueLog(r)
	}
	return out, nil
}
