package audit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Journal keeps a Log's event lines durable until the log file holding
// them is synced, so that an event costs one sync — the journal's, which
// the record store can share with the records the call wrote (the Badger
// store keeps it under a reserved key prefix, store/badger.Journal) —
// instead of a file fsync of its own. The Log stays the one sequencer:
// lines reach the journal with their seq, time, prev and hash final, and
// the file gets the same bytes.
type Journal interface {
	// Put stores lines (without their newlines) as the events first,
	// first+1, …, and returns wait, which returns nil once all of them are
	// durable; the Log calls it exactly once. Put may keep no reference to lines once it returns. A
	// nil wait with a nil error means the journal is busy (its store is
	// held by a write that syncs on its own) and stored nothing: the Log
	// then writes the batch to the file and fsyncs it, rather than wait.
	Put(first uint64, lines [][]byte) (wait func() error, err error)
	// Lines calls fn with every line stored after seq after, in seq order.
	Lines(after uint64, fn func(seq uint64, line []byte) error) error
	// Shares reports whether the sync of a Put now would also make
	// durable writes that are waiting for a sync (a call's records). When
	// it would not, the Log fsyncs the file instead: one sync either way,
	// and the file's costs less than a journal put.
	Shares() bool
	// Trim removes the lines up to seq upto (all with math.MaxUint64). It
	// need not be durable: a trimmed line is in the synced file, and a
	// line that comes back after a crash is skipped as already there.
	Trim(upto uint64) error
}

// TxJournal is a Journal whose puts can carry other writes of its store
// in the same transaction: a tokenize call's records commit with its
// audit event (Log.AppendStaged), one commit and one sync for both.
type TxJournal interface {
	Journal
	// PutTx opens a write transaction, calls fill with it (the store's
	// own type; fill inserts records through it and returns the lines to
	// store as the events first, first+1, …), stores the lines and
	// commits. If fill fails, nothing is committed and PutTx returns its
	// error. wait returns nil once records and lines are durable; the
	// Log calls it exactly once.
	PutTx(fill func(tx any) (first uint64, lines [][]byte, err error)) (wait func() error, err error)
}

// ErrTxFull is wrapped by the error of TxJournal.PutTx, or of a write
// through its transaction (which the stage returns), when the
// transaction has grown too large for the store; nothing was committed.
// The Log then commits the requests before the one that did not fit on
// their own and the rest after them; a stage too large alone fails with
// it.
var ErrTxFull = errors.New("audit: the journal's transaction is full")

// DefaultFileSyncInterval is Options.FileSyncInterval when it is zero.
const DefaultFileSyncInterval = time.Second

const (
	// A batch goes to the journal when each of its lines is at most
	// journalMaxLine bytes and all together at most journalMaxBatch:
	// unary calls' events. An event with hundreds of token fingerprints
	// (a large batch) is written to the file and fsync'd beside the
	// store's sync instead, as without a journal: in the journal it
	// would fill the store's memtable and write-ahead log with bytes the
	// file holds anyway.
	journalMaxLine  = 8 << 10
	journalMaxBatch = 128 << 10
	// fileSyncBytes is how many bytes written to the file after its last
	// sync make the writer sync it before FileSyncInterval has passed.
	fileSyncBytes = 8 << 20
)

// ErrJournalMismatch is wrapped by the error of Open when the journal holds
// a line that does not continue the log file: a gap in seq, a line that
// does not chain from the one before, or one that differs from the file's
// line of the same seq. Open refuses to start rather than drop it; with
// Options.AcceptReset it drops the journal's lines and records that in an
// audit.reset event.
var ErrJournalMismatch = errors.New("audit: the journal does not continue the log file")

// errJournalBusy: the journal took no lines (Journal.Put's nil wait).
var errJournalBusy = errors.New("audit: journal busy")

// replayJournal appends to the file, in order, the journal's lines that
// follow its last record, each checked to chain from the one before; syncs
// the file (it may hold lines a killed process wrote but never synced,
// whose journal lines are trimmed next); and trims the journal. lastEvent
// is the hash of the file's last record when that is an event ("" if it
// is a checkpoint or the file is empty).
func (l *Log) replayJournal(lastEvent string) (n int, err error) {
	seq, last := l.seq, l.last
	var buf []byte
	mismatch := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s (%s); run audit verify, or start with --accept-audit-log-reset to drop the journal's lines",
			ErrJournalMismatch, fmt.Sprintf(format, args...), l.path)
	}
	err = l.jr.Lines(0, func(q uint64, line []byte) error {
		r := parseRecord(line)
		switch {
		case r.err != nil || !r.hashOK || r.ckpt || r.seq() != q:
			return mismatch("journal line for seq %d is not a valid event record", q)
		case q < l.seq:
			return nil // in the file already
		case q == l.seq:
			if lastEvent != "" && r.hash() != lastEvent {
				return mismatch("journal line for seq %d differs from the file's", q)
			}
			return nil
		case q != seq+1:
			return mismatch("journal holds seq %d after seq %d", q, seq)
		case r.prev() != last:
			return mismatch("journal line for seq %d does not chain from the line before", q)
		}
		buf = append(append(buf, line...), '\n')
		seq, last = q, r.hash()
		n++
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrJournalMismatch) {
			return 0, err
		}
		return 0, fmt.Errorf("audit: reading the journal: %w", err)
	}
	if len(buf) > 0 {
		if _, err := l.f.Write(buf); err != nil {
			return 0, fmt.Errorf("audit: appending the journal's lines: %w", err)
		}
	}
	if err := l.f.Sync(); err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	l.seq, l.last = seq, last
	if n > 0 {
		l.since = l.every // sign what was recovered before adding to it
	}
	if err := l.jr.Trim(l.seq); err != nil {
		return 0, fmt.Errorf("audit: trimming the journal: %w", err)
	}
	return n, nil
}

// dropJournal empties the journal after the operator accepted a reset.
func (l *Log) dropJournal() error {
	if err := l.jr.Trim(math.MaxUint64); err != nil {
		return fmt.Errorf("audit: dropping the journal: %w", err)
	}
	return nil
}

// route says where a batch encoded as buf, whose lines end at ends, goes:
// to the journal, or to the file (fsync'd), and then whether the store
// has writes waiting that should sync beside it (BeforeSync). A kick with
// nothing waiting would only make the next insert group sync on its own.
func (l *Log) route(buf []byte, ends []int) (journal, presync bool) {
	if l.jr == nil {
		return false, true
	}
	shares := holdFileWrites || l.jr.Shares()
	if len(buf) > journalMaxBatch {
		return false, shares
	}
	start := 0
	for _, e := range ends {
		if e-start > journalMaxLine {
			return false, shares
		}
		start = e
	}
	return shares, false
}

// putJournal makes a batch durable through the journal and writes it to
// the file (not synced) while the journal syncs. first is the seq of its
// first line; ends[i] is the offset in buf after line i's newline. It
// returns errJournalBusy, having done nothing, if the journal is busy.
func (l *Log) putJournal(first uint64, buf []byte, ends []int) error {
	l.lines = l.lines[:0]
	start := 0
	for _, e := range ends {
		l.lines = append(l.lines, buf[start:e-1])
		start = e
	}
	wait, err := l.jr.Put(first, l.lines)
	for holdFileWrites && err == nil && wait == nil {
		// A test build journals every small batch (holdFileWrites): it
		// waits out a busy journal instead of going to the file, whose
		// sync would write the held lines and end the lag it needs.
		time.Sleep(100 * time.Microsecond)
		wait, err = l.jr.Put(first, l.lines)
	}
	clear(l.lines)
	if err != nil {
		return l.fail(fmt.Errorf("audit: journal: %w", err))
	}
	if wait == nil {
		return errJournalBusy
	}
	return l.journaled(buf, wait)
}

// journaled writes buf, whose lines the journal has taken, to the file
// (not synced) while the journal syncs them, and waits for that sync.
func (l *Log) journaled(buf []byte, wait func() error) error {
	var ferr error
	if holdFileWrites {
		l.held = append(l.held, buf...)
	} else {
		ferr = l.writeFile(buf)
	}
	if err := wait(); err != nil {
		return l.fail(fmt.Errorf("audit: journal: %w", err))
	}
	if ferr != nil {
		return ferr
	}
	if l.unsynced == 0 {
		l.syncBy = time.Now().Add(l.syncEvery)
	}
	l.unsynced += len(buf)
	l.inJournal = true
	return nil
}

// syncFile syncs what was written to the file since its last sync and
// trims the journal of it.
func (l *Log) syncFile() error {
	if l.err != nil || l.unsynced == 0 {
		return l.err
	}
	if err := l.writeFile(nil); err != nil {
		return err
	}
	if err := l.f.Sync(); err != nil {
		return l.fail(fmt.Errorf("audit: log unusable after failed write, reopen it: %w", err))
	}
	l.synced()
	return nil
}

// synced records that the file is durable up to l.seq: the journal's
// lines up to there are no longer needed. A failed trim is reported and
// left for the next one (or for recovery, which skips them).
func (l *Log) synced() {
	l.unsynced, l.syncBy = 0, time.Time{}
	if l.armed {
		l.timer.Stop()
		l.armed = false
	}
	if !l.inJournal {
		return
	}
	if err := l.jr.Trim(l.seq); err != nil {
		l.report(fmt.Errorf("audit: trimming the journal: %w", err))
		return
	}
	l.inJournal = false
}
