package badger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/privacyvault/privacyvault/store"
)

// maxGroup bounds how many waiting inserts one commit takes.
const maxGroup = 256

// insertReq is one Insert waiting for the committer.
type insertReq struct {
	ctx  context.Context
	recs []store.Record
	prep []staged // recs made ready by the caller (prepareAll)
	out  []store.Outcome
	next int   // recs[:next] have outcomes
	err  error // the request failed; no further records are processed
	// decided receives once every outcome is known (or the request
	// failed); durable once the transaction holding the last of them is
	// on stable storage. Both are buffered so the committer never waits.
	decided chan error
	durable chan error
	// wanted: its caller waits for durability (lazy syncs, see syncLoop).
	wanted atomic.Bool
}

// InsertStaged implements store.Store. The outcomes are decided by the
// committer goroutine, which serializes all inserts; see commitGroup.
func (s *Store) InsertStaged(ctx context.Context, recs []store.Record) ([]store.Outcome, func() error, error) {
	if err := s.use(ctx); err != nil {
		return nil, nil, err
	}
	defer s.mu.RUnlock()
	for _, r := range recs {
		if r.Subject != nil {
			if err := checkSubject(r.Subject); err != nil {
				return nil, nil, fmt.Errorf("store/badger: insert: %w", err)
			}
		}
	}
	if len(recs) == 0 {
		return nil, func() error { return nil }, nil
	}
	req := &insertReq{ctx: ctx, recs: recs, prep: s.prepareAll(recs), out: make([]store.Outcome, len(recs)),
		decided: make(chan error, 1), durable: make(chan error, 1)}
	select {
	case s.inserts <- req:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	// The read lock is held until the outcomes are decided, so Close
	// never finds a request the committer has not taken.
	if err := <-req.decided; err != nil {
		return nil, nil, err
	}
	wait := func() error {
		select {
		case err := <-req.durable:
			return err
		default:
		}
		req.wanted.Store(true)
		s.dur.demand()
		select {
		case err := <-req.durable:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return req.out, wait, nil
}

// commitLoop is the committer: it takes one waiting insert and every other
// insert already waiting, and commits them in one transaction (group
// commit), so concurrent calls share one fsync and no writer waits in
// Badger's read-timestamp queue behind another's commit.
func (s *Store) commitLoop() {
	defer close(s.committerDone)
	group := make([]*insertReq, 0, maxGroup)
	for {
		select {
		case req := <-s.inserts:
			group = append(group[:0], req)
		drain:
			for len(group) < maxGroup {
				select {
				case req := <-s.inserts:
					group = append(group, req)
				default:
					break drain
				}
			}
			s.commitGroup(group)
			clear(group)
		case <-s.stopCommitter:
			return
		}
	}
}

// commitGroup decides the outcomes of a group's records in one write
// transaction and commits it. Each request hears its outcomes as soon as
// they are decided — before the commit's fsync — so its caller can make
// its audit event durable while the store syncs; it hears again once the
// commit is durable. Deciding is exact: the committer holds the write lock
// (s.wmu), so no other writer can change what it read before it commits,
// and later groups see this one's records (uniqueness of deterministic
// indexes holds across and within groups). If Badger's transaction size
// limit is reached, what is decided so far is committed first.
func (s *Store) commitGroup(group []*insertReq) {
	// Counted before any request hears its outcomes, so Journal.Shares
	// sees this group from the moment a call's event can exist; commit
	// hands the count to the syncer with the transaction.
	s.dur.queued.Add(1)
	s.wmu.Lock()
	s.dur.committing.Add(1)
	defer func() {
		s.wmu.Unlock()
		s.dur.committing.Add(-1)
	}()
	txn := s.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	det := &detScope{db: s.db}
	defer det.close()
	var inTxn []*insertReq // requests with records in txn
	n := 0                 // records in txn
	var size int64         // estimated bytes in txn
	entries := 0
	big := false // txn holds a value for the value log
	// flush commits txn; every request whose records it holds, but cur,
	// hears once it is durable.
	flush := func(cur *insertReq) error {
		var answer []*insertReq
		for _, r := range inTxn {
			if r != cur {
				answer = append(answer, r)
			}
		}
		err := s.commit(txn, big, answer)
		det.reset()
		big = false
		inTxn, n, size, entries = inTxn[:0], 0, 0, 0
		txn = s.db.NewTransaction(true)
		s.dur.queued.Add(1)
		return err
	}
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.decided <- err
			continue
		}
		for r.next < len(r.recs) && r.err == nil {
			// Flush before a record that may not fit, so that a record is
			// never cut between two transactions (its index in one, itself
			// in the other).
			p := &r.prep[r.next]
			b, e := p.size, p.entries
			if n > 0 && (size+b > s.txnBytes || entries+e > s.txnEntries) {
				if ferr := flush(r); ferr != nil {
					r.err = ferr
					continue
				}
			}
			o, err := insertOne(txn, s.filter, det, p)
			switch {
			case errors.Is(err, bdb.ErrTxnTooBig) && n > 0:
				if ferr := flush(r); ferr != nil {
					r.err = ferr
				}
				continue
			case err != nil && !errors.Is(err, bdb.ErrTxnTooBig):
				// The transaction's state is unknown: fail everything in it
				// and every request not yet decided.
				err = fmt.Errorf("store/badger: insert: %w", err)
				for _, q := range inTxn {
					if q != r {
						q.durable <- err
					}
				}
				for _, q := range group[i:] {
					q.decided <- err
				}
				s.dur.queued.Add(-1)
				return
			case err != nil:
				r.err = fmt.Errorf("store/badger: insert: %w", err)
				continue
			}
			if len(inTxn) == 0 || inTxn[len(inTxn)-1] != r {
				inTxn = append(inTxn, r)
			}
			r.out[r.next] = o
			big = big || s.mayUseValueLog(r.recs[r.next])
			r.next++
			n++
			size += b
			entries += e
		}
		r.decided <- r.err
	}
	var answer []*insertReq
	for _, r := range inTxn {
		if r.err == nil {
			answer = append(answer, r)
		}
	}
	s.commit(txn, big, answer)
}

// pendingSync is a committed insert transaction waiting for its sync.
type pendingSync struct {
	n      uint64       // its durability number (durability.begin)
	big    bool         // it may have written the value log
	answer []*insertReq // requests that hear once it is durable
	// force: synced even if n is durable already (a journal put, which
	// takes no number of its own; see Journal.Put).
	force bool
	// queued: an insert transaction counted in durability.queued.
	queued bool
}

// commit commits an insert transaction and hands it to the syncer, so the
// committer can decide the next group while this one syncs. answer hear
// the commit's error at once, or once the syncer made it durable. The
// transaction's count in durability.queued goes to the syncer with it,
// or is taken back if the commit failed.
func (s *Store) commit(txn *bdb.Txn, big bool, answer []*insertReq) error {
	n, err := s.dur.begin()
	if err == nil {
		if err = txn.Commit(); err != nil {
			s.dur.cancel(n) // the write lock is held: n is the last begun
		} else if big {
			s.dur.lastBig.Store(n)
		}
	}
	if err != nil {
		s.dur.queued.Add(-1)
		err = fmt.Errorf("store/badger: insert: %w", err)
		for _, r := range answer {
			r.durable <- err
		}
		return err
	}
	s.syncs <- pendingSync{n: n, big: big, answer: answer, queued: true}
	return nil
}

// syncLoop is the syncer: it takes every committed transaction waiting and
// makes them durable with one fdatasync of the memtable WAL (both files if
// one may have written the value log), then answers their requests. Each
// sync covers everything committed before it, and transactions arrive in
// commit order, so the last one's number marks what is durable. In lazy
// mode (SyncOnDemand) it syncs only when asked (durability.demand): by a
// waiting caller, a reader, or the audit log starting a batch,
// so that one store sync serves every group committed meanwhile.
func (s *Store) syncLoop() {
	defer close(s.syncerDone)
	var batch []pendingSync
	open := true
	for open || len(batch) > 0 {
		if len(batch) > 0 && (!open || len(batch) >= maxGroup || !s.dur.lazy.Load() || wanted(batch, s.dur.want.Load())) {
			s.syncBatch(batch)
			clear(batch)
			batch = batch[:0]
			continue
		}
		select {
		case p, ok := <-s.syncs:
			if !ok {
				open = false
				continue
			}
			batch = append(batch, p)
		drain:
			for len(batch) < maxGroup {
				select {
				case p, ok := <-s.syncs:
					if !ok {
						open = false
						break drain
					}
					batch = append(batch, p)
				default:
					break drain
				}
			}
		case <-s.dur.kick:
			// A kick only wakes the syncer: what it asks for was marked
			// before it (want, or a request's wanted) and is checked
			// against each write as it arrives (wanted), so a demand
			// made before its write got here still holds, and a kick
			// that comes after the sync that answered it asks for
			// nothing more.
		}
	}
}

// wanted reports whether a waiter demanded a write of batch: a reader
// (durability.want) or an insert request (insertReq.wanted). Both mark
// their demand before they kick, so a demand whose kick the syncer took
// before the write arrived here is still seen when it arrives.
func wanted(batch []pendingSync, want uint64) bool {
	if batch[0].n <= want {
		return true
	}
	for _, p := range batch {
		for _, r := range p.answer {
			if r.wanted.Load() {
				return true
			}
		}
	}
	return false
}

// syncBatch makes the committed transactions of batch durable and answers
// their requests. A write synced meanwhile by someone else (update) needs
// no sync of its own.
func (s *Store) syncBatch(batch []pendingSync) {
	last := batch[len(batch)-1].n
	var err error
	if !s.dur.durableTo(last) || slices.ContainsFunc(batch, func(p pendingSync) bool { return p.force }) {
		// A write before these (PutTx) may have written the value log
		// and not be synced yet: this sync marks it durable too.
		big := !s.dur.durableTo(s.dur.lastBig.Load())
		for _, p := range batch {
			big = big || p.big
		}
		if big {
			err = s.dur.syncBoth()
		} else {
			err = s.dur.syncWAL()
		}
	}
	if err = s.dur.done(last, err); err != nil {
		err = fmt.Errorf("store/badger: insert: %w", err)
	}
	for _, p := range batch {
		if p.queued {
			s.dur.queued.Add(-1)
		}
		for _, r := range p.answer {
			r.durable <- err
		}
	}
}

// SyncOnDemand switches the store to lazy syncs: committed inserts are
// made durable when a caller waits for them (InsertStaged's wait, Insert,
// a read) or when kick is called, not as soon as they are committed. The
// audit log calls kick as it starts a batch, so the store's sync runs
// beside the audit log's and covers every insert group committed
// since the last one: one store sync per audit batch rather than one per
// insert group. Nothing becomes durable later than a waiter needs it.
func (s *Store) SyncOnDemand() (kick func()) {
	s.dur.lazy.Store(true)
	return s.dur.demandDecided
}

// mayUseValueLog reports whether r's value may go to the value log,
// cheaply for the usual small record.
func (s *Store) mayUseValueLog(r store.Record) bool {
	return int64(len(r.Ciphertext))+256 >= s.opts.ValueThreshold && s.inValueLog(r)
}

// estimate returns about how many bytes and entries r adds to a
// transaction, as Badger counts them (key, value and two meta bytes).
func estimate(r store.Record) (int64, int) {
	const perEntry = 2 + 1 + 8 // metas, key prefix, slack for encoding
	k := int64(len(r.Class) + len(r.ID) + perEntry)
	b, e := k+int64(len(r.Ciphertext))+64, 1 // 64: the encoded record's fixed fields
	if r.Index != nil {
		b, e = b+k+int64(len(r.Index)+len(r.ID)), e+1
	}
	if r.Subject != nil {
		b, e = b+k+int64(len(r.Subject)), e+1
	}
	return b, e
}
