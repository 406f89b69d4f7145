// Package pgsink keeps audit chains in PostgreSQL (audit.sink postgres):
// each sidecar instance appends to its own hash chain, one row per record
// holding the line exactly as audit.log would, under the same fail-closed
// rule as the file log: Record returns only once its transaction has
// committed. A lease on the chain's row keeps a second live process off a
// chain, and every write is conditional on the holder and the chain's
// position, so two processes can never interleave records in one chain.
//
// With the PostgreSQL store, a tokenize call's records and its events
// commit in one transaction (audit.Joint): the store begins it, the sink
// adds the events and commits.
package pgsink

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privacyvault/privacyvault/audit"
)

// DefaultLeaseTTL is how long a chain stays held without renewal: how
// long a sidecar restarted after a crash may wait for its own chain.
const DefaultLeaseTTL = 15 * time.Second

const (
	maxBatch    = 1024
	signTimeout = 5 * time.Second
	signRetry   = 30 * time.Second
	opTimeout   = 10 * time.Second
)

// nowNanos is the database clock in Unix nanoseconds.
const nowNanos = `(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000000)::BIGINT`

// ErrChainHeld is returned by Open while another live process holds the
// chain, and by Record once another process took the chain over.
var ErrChainHeld = errors.New("audit: the chain is held by another live sidecar (audit.instance_id must be unique per sidecar)")

// ErrUnavailable wraps database failures: the event was not written.
var ErrUnavailable = errors.New("audit: the audit database is unavailable")

// Options configure Open.
type Options struct {
	// Pool is the sink's connection pool (its own, so writes never queue
	// behind the store's connections held by open transactions).
	Pool *pgxpool.Pool
	// Instance names the chain: stable across restarts, unique per live
	// sidecar.
	Instance string
	// Signer signs checkpoints. Required.
	Signer audit.Signer
	// CheckpointEvery is the number of events between checkpoints; 0
	// means audit.DefaultCheckpointEvery.
	CheckpointEvery int
	// LeaseTTL is the chain lease's lifetime; 0 means DefaultLeaseTTL.
	LeaseTTL time.Duration
	// OnError receives problems that do not fail a Record (a checkpoint
	// not signed, a lease renewal that failed).
	OnError func(error)
	// Anchors keep heads outside the database (Vault); Open refuses a
	// chain that does not contain a recorded head unless AcceptReset.
	Anchors     []audit.Anchor
	AcceptReset bool
}

// Sink appends events to one instance's chain.
type Sink struct {
	pool     *pgxpool.Pool
	instance string
	holder   string
	signer   audit.Signer
	every    int
	ttl      time.Duration
	onError  func(error)
	anchors  []audit.Anchor

	reqs      chan request
	closing   chan struct{}
	exited    chan struct{}
	closeOnce sync.Once
	closeErr  error
	renewStop chan struct{}
	renewDone chan struct{}

	mu   sync.Mutex
	head audit.ChainHead // published head
	lost error           // set once the chain is held by another process

	// Writer goroutine only.
	h       audit.ChainHead
	pos     uint64
	dirty   bool // a failed commit: reload the head before writing
	retryAt time.Time
}

type request struct {
	evs []audit.Event
	// jt, if set, is a joint transaction to commit the events in, after
	// taking out the records of its calls at positions left.
	jt   *audit.JointTx
	left []int
	done chan error
}

// Open takes instance's chain (waiting up to the lease's lifetime for a
// crashed previous holder's lease to expire), checks it against its
// recorded heads, and seals a tail left by a crash with a checkpoint.
func Open(ctx context.Context, o Options) (*Sink, error) {
	if o.Signer == nil || o.Pool == nil || o.Instance == "" {
		return nil, errors.New("audit/pgsink: Options need Pool, Instance and Signer")
	}
	var hb [16]byte
	rand.Read(hb[:])
	s := &Sink{
		pool: o.Pool, instance: o.Instance, holder: hex.EncodeToString(hb[:]),
		signer: o.Signer, every: o.CheckpointEvery, ttl: o.LeaseTTL, onError: o.OnError,
		anchors: o.Anchors,
		reqs:    make(chan request), closing: make(chan struct{}), exited: make(chan struct{}),
		renewStop: make(chan struct{}), renewDone: make(chan struct{}),
	}
	if s.every <= 0 {
		s.every = audit.DefaultCheckpointEvery
	}
	if s.ttl <= 0 {
		s.ttl = DefaultLeaseTTL
	}
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	if err := s.start(ctx, o.AcceptReset); err != nil {
		s.release()
		return nil, err
	}
	go s.renew()
	go s.run()
	return s, nil
}

// acquire takes the chain's lease, retrying while a previous holder's
// lease may still expire.
func (s *Sink) acquire(ctx context.Context) error {
	deadline := time.Now().Add(s.ttl + 2*time.Second)
	for {
		var got string
		err := s.pool.QueryRow(ctx, `
INSERT INTO pv_audit_chains (instance, holder, expires_at, pos, seq, hash, checkpoint_seq, since, created_at)
VALUES ($1, $2, `+nowNanos+` + $3, 0, 0, '', 0, 0, `+nowNanos+`)
ON CONFLICT (instance) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE pv_audit_chains.expires_at < `+nowNanos+`
RETURNING holder`, s.instance, s.holder, s.ttl.Nanoseconds()).Scan(&got)
		if err == nil {
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return dbErr("taking the chain lease", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("audit/pgsink: instance %q: %w", s.instance, ErrChainHeld)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// start loads the head and checks it.
func (s *Sink) start(ctx context.Context, acceptReset bool) error {
	recorded, err := s.loadHead(ctx)
	if err != nil {
		return err
	}
	// The chain's last record: it must be the head recorded with it (both
	// are written in one transaction, so only an edit separates them).
	actual := audit.ChainHead{}
	var lastPos uint64
	var line string
	err = s.pool.QueryRow(ctx, `SELECT pos, line FROM pv_audit_records WHERE instance = $1 ORDER BY pos DESC LIMIT 1`, s.instance).Scan(&lastPos, &line)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return dbErr("reading the chain", err)
	default:
		rec, err := audit.ParseSealed([]byte(line))
		if err != nil {
			return fmt.Errorf("audit/pgsink: instance %q: last record (pos %d): %w; run audit verify", s.instance, lastPos, err)
		}
		actual.Seq, actual.Hash, actual.Checkpoint = rec.Seq, rec.Hash, rec.Checkpoint
		if !rec.Checkpoint {
			actual.Since = 1 // unknown how many: seal what is there
		}
	}
	var mismatches []error
	if lastPos != recorded.pos || actual.Hash != recorded.h.Hash {
		kind := audit.KindDiverged
		if lastPos < recorded.pos {
			kind = audit.KindBehind
		}
		mismatches = append(mismatches, &audit.HeadError{Kind: kind, Where: "database chain row", Log: actual.Head, Recorded: recorded.h.Head})
	}
	for _, a := range s.anchors {
		actx, cancel := context.WithTimeout(ctx, opTimeout)
		h, ok, err := a.LoadHead(actx)
		cancel()
		if err != nil {
			return fmt.Errorf("audit/pgsink: reading the chain head recorded in the %s: %w", a.Name(), err)
		}
		if !ok || h.Hash == "" {
			continue
		}
		var seq uint64
		err = s.pool.QueryRow(ctx, `SELECT seq FROM pv_audit_records WHERE instance = $1 AND hash = $2 AND pos <= $3`, s.instance, h.Hash, lastPos).Scan(&seq)
		if err == nil && actual.Seq >= h.Seq {
			continue
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return dbErr("reading the chain", err)
		}
		kind := audit.KindDiverged
		if actual.Seq < h.Seq {
			kind = audit.KindBehind
		}
		mismatches = append(mismatches, &audit.HeadError{Kind: kind, Where: a.Name(), Log: actual.Head, Recorded: h})
	}
	if len(mismatches) > 0 && !acceptReset {
		return fmt.Errorf("audit/pgsink: instance %q: %w", s.instance, errors.Join(mismatches...))
	}
	if len(mismatches) > 0 {
		// Continue from what is there; the chain row is rewritten with the
		// reset event.
		recorded.pos, recorded.h = lastPos, audit.ChainHead{Head: actual.Head, Since: actual.Since}
		recorded.h.CheckpointSeq = min(recorded.h.CheckpointSeq, actual.Seq)
		if err := s.forceHead(ctx, recorded.pos, recorded.h); err != nil {
			return err
		}
	}
	s.pos, s.h = recorded.pos, recorded.h
	s.publish()
	for _, m := range mismatches {
		ev := audit.Event{Caller: "privacyvault/operator", Op: audit.OpReset, Decision: audit.DecisionAllow,
			Reason: "accepted by the operator (--accept-audit-log-reset): " + m.Error()}
		if err := s.write(ctx, nil, []audit.Event{ev}); err != nil {
			return err
		}
	}
	if s.h.Since > 0 {
		// The previous process did not close: sign what survived first.
		if err := s.checkpoint(ctx); err != nil {
			s.report(err)
		}
	}
	return nil
}

type chainRow struct {
	pos uint64
	h   audit.ChainHead
}

// loadHead reads the chain row, which this process must hold.
func (s *Sink) loadHead(ctx context.Context) (chainRow, error) {
	var r chainRow
	var since int64
	err := s.pool.QueryRow(ctx, `SELECT pos, seq, hash, checkpoint_seq, since FROM pv_audit_chains WHERE instance = $1 AND holder = $2`,
		s.instance, s.holder).Scan(&r.pos, &r.h.Seq, &r.h.Hash, &r.h.CheckpointSeq, &since)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("audit/pgsink: instance %q: %w", s.instance, ErrChainHeld)
	}
	if err != nil {
		return r, dbErr("reading the chain head", err)
	}
	r.h.Since = int(since)
	r.h.Checkpoint = since == 0 && r.h.Seq > 0
	return r, nil
}

func (s *Sink) forceHead(ctx context.Context, pos uint64, h audit.ChainHead) error {
	_, err := s.pool.Exec(ctx, `UPDATE pv_audit_chains SET pos = $3, seq = $4, hash = $5, checkpoint_seq = $6, since = $7 WHERE instance = $1 AND holder = $2`,
		s.instance, s.holder, pos, h.Seq, h.Hash, h.CheckpointSeq, h.Since)
	return dbErr("resetting the chain head", err)
}

// Instance returns the chain's name.
func (s *Sink) Instance() string { return s.instance }

// Head returns the chain head as committed so far.
func (s *Sink) Head() audit.Head {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head.Head
}

func (s *Sink) publish() {
	s.mu.Lock()
	s.head = s.h
	s.mu.Unlock()
}

func (s *Sink) lostErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost
}

// Record appends ev to the chain and returns once it is committed. With a
// joint transaction in ctx (audit.Joint), the events of the call are
// committed in that transaction together with its records and with the
// records and events of the other calls sharing it: one commit, and one
// move of the chain row, for all of them.
func (s *Sink) Record(ctx context.Context, ev audit.Event) error {
	ev.Tokens = append([]string(nil), ev.Tokens...)
	j := audit.JointFrom(ctx)
	if err := audit.Validate(&ev); err != nil {
		if j != nil {
			j.Fail(err)
		}
		return err
	}
	if j != nil {
		t, complete, err := j.Add(ev)
		switch {
		case err != nil:
			return err
		case t == nil: // no records in a transaction: write on its own
		case !complete:
			return j.Wait(ctx)
		default:
			return j.Commit(ctx, func(evs []audit.Event, left []int) error {
				// Every call of the transaction waits for this
				// result, so it is not cut short by this call's ctx.
				return s.submit(context.WithoutCancel(ctx), request{evs: evs, jt: t, left: left, done: make(chan error, 1)})
			})
		}
	}
	return s.submit(ctx, request{evs: []audit.Event{ev}, done: make(chan error, 1)})
}

// rollbackJoint rolls back a joint transaction the writer never got.
func rollbackJoint(jt *audit.JointTx) {
	if tx, ok := jt.Tx().(jointTx); ok {
		tx.Rollback(context.Background())
	}
}

func (s *Sink) submit(ctx context.Context, req request) error {
	select {
	case s.reqs <- req:
	case <-s.closing:
		if req.jt != nil {
			rollbackJoint(req.jt)
		}
		return audit.ErrClosed
	case <-ctx.Done():
		if req.jt != nil {
			rollbackJoint(req.jt)
		}
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes a final checkpoint if events were appended since the last
// one, and gives the chain's lease up.
func (s *Sink) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.exited
		close(s.renewStop)
		<-s.renewDone
		s.closeErr = errors.Join(s.closeErr, s.release())
	})
	return s.closeErr
}

func (s *Sink) release() error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_, err := s.pool.Exec(ctx, `UPDATE pv_audit_chains SET expires_at = 0 WHERE instance = $1 AND holder = $2`, s.instance, s.holder)
	return dbErr("releasing the chain lease", err)
}

// renew keeps the lease alive; a lease found taken over stops every write.
func (s *Sink) renew() {
	defer close(s.renewDone)
	t := time.NewTicker(s.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-s.renewStop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.ttl/3)
		tag, err := s.pool.Exec(ctx, `UPDATE pv_audit_chains SET expires_at = `+nowNanos+` + $3 WHERE instance = $1 AND holder = $2`,
			s.instance, s.holder, s.ttl.Nanoseconds())
		cancel()
		switch {
		case err != nil:
			s.report(dbErr("renewing the chain lease", err))
		case tag.RowsAffected() == 0:
			s.mu.Lock()
			s.lost = fmt.Errorf("audit/pgsink: instance %q: %w", s.instance, ErrChainHeld)
			s.mu.Unlock()
			s.report(s.lost)
		}
	}
}

func (s *Sink) report(err error) {
	if s.onError != nil {
		s.onError(err)
	}
}

// dbErr keeps driver text (which may name the server and user) out of
// errors: the operation and ErrUnavailable, or the server's message.
func dbErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("audit/pgsink: %s: %w", op, err)
	}
	return fmt.Errorf("audit/pgsink: %s: %w", op, ErrUnavailable)
}
