package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/privacyvault/privacyvault/store"
)

const (
	// groupJoin is the largest insert that joins a group; larger batches
	// are a statement of their own already.
	groupJoin = 32
	// groupMax bounds the records of one group statement.
	groupMax = 512
	// groupFlushers is how many group statements may be in flight at once.
	// PostgreSQL runs concurrent statements in parallel and shares WAL
	// flushes between their commits, so grouping pays only beyond a few
	// concurrent callers: with 4, 8 callers insert as fast as without
	// groups and 32 callers 1.4-2.2x faster (same-run store measurements
	// on the 2-core machine).
	groupFlushers = 4
)

// committer is a group commit for small inserts: the calls that arrive
// while group statements are in flight are written together by the next
// one, in one statement and one commit. A unary tokenize then costs the
// database a share of a statement instead of a statement (and a WAL flush)
// of its own. Durability is unchanged: every call's wait returns nil only
// once the transaction holding its records has committed.
type committer struct {
	pool    txBeginner
	useCopy bool

	mu       sync.Mutex
	queue    []*groupCall
	inflight int
}

// groupCall is one Insert waiting in a group.
type groupCall struct {
	ctx  context.Context
	recs []store.Record
	// staged is closed once out or err is set; done once commitErr is.
	out       []store.Outcome
	err       error
	staged    chan struct{}
	commitErr error
	done      chan struct{}
}

// insert writes recs with the next group and returns their outcomes once
// decided, with a wait for the group's commit, or ctx's error if ctx ends
// first (the records may then still be written, as if the caller had
// gone away just after the commit). A caller that finds a flusher slot
// free writes the queued group itself, so a lone caller pays no hand-off
// to another goroutine.
func (c *committer) insert(ctx context.Context, recs []store.Record) ([]store.Outcome, func() error, error) {
	call := &groupCall{ctx: ctx, recs: recs, staged: make(chan struct{}), done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, call)
	lead := c.inflight < groupFlushers
	if lead {
		c.inflight++
	}
	c.mu.Unlock()
	if lead {
		// Decide this group's outcomes here, with no hand-off for a lone
		// caller; commit and write later groups in the background.
		if group := c.take(); group != nil {
			commit := c.stage(group)
			go func() {
				commit()
				c.next()
			}()
		}
	}
	select {
	case <-call.staged:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("store/postgres: insert: %w", ctx.Err())
	}
	if call.err != nil {
		return nil, nil, call.err
	}
	return call.out, func() error {
		select {
		case <-call.done:
			return call.commitErr
		case <-ctx.Done():
			return fmt.Errorf("store/postgres: insert: %w", ctx.Err())
		}
	}, nil
}

// take removes the next group from the queue, or releases the caller's
// flusher slot and returns nil if the queue is empty.
func (c *committer) take() []*groupCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		c.inflight--
		return nil
	}
	n, k := 0, 0
	for k < len(c.queue) && (k == 0 || n+len(c.queue[k].recs) <= groupMax) {
		n += len(c.queue[k].recs)
		k++
	}
	group := make([]*groupCall, k)
	copy(group, c.queue)
	c.queue = append(c.queue[:0], c.queue[k:]...)
	return group
}

// next writes the groups queued meanwhile, then releases the flusher
// slot.
func (c *committer) next() {
	for {
		group := c.take()
		if group == nil {
			return
		}
		c.stage(group)()
	}
}

// stage inserts one group's records in one transaction and hands each call
// its outcomes as soon as they are decided. The returned function commits
// and hands each call the commit's result.
func (c *committer) stage(group []*groupCall) (commit func()) {
	live := group[:0:0]
	for _, g := range group {
		if g.ctx.Err() != nil {
			// Its caller has gone: nothing of it is written.
			g.err = fmt.Errorf("store/postgres: insert: %w", g.ctx.Err())
			close(g.staged)
			close(g.done)
			continue
		}
		live = append(live, g)
	}
	if len(live) == 0 {
		return func() {}
	}
	ctx, stop := groupContext(live)
	var all []store.Record
	for _, g := range live {
		all = append(all, g.recs...)
	}
	out, tx, err := stageAll(ctx, c.pool, all, c.useCopy)
	if err != nil && len(live) > 1 && !errors.Is(wrapErr("insert", err), store.ErrUnavailable) && ctx.Err() == nil {
		// Not the database being away: one call's records may be what
		// the statement refused, so each call is written on its own and
		// gets its own answer.
		stop()
		for _, g := range live {
			g.out, g.err = insertAll(g.ctx, c.pool, g.recs, c.useCopy)
			g.err = wrapErr("insert", g.err)
			close(g.staged)
			close(g.done)
		}
		return func() {}
	}
	for _, g := range live {
		if err != nil {
			g.err = wrapErr("insert", err)
		} else {
			g.out, out = out[:len(g.recs):len(g.recs)], out[len(g.recs):]
		}
		close(g.staged)
	}
	return func() {
		defer stop()
		cerr := err
		if cerr == nil {
			// The callers write their audit events meanwhile.
			cerr = wrapErr("insert", tx.Commit(context.WithoutCancel(ctx)))
		}
		for _, g := range live {
			g.commitErr = cerr
			close(g.done)
		}
	}
}

// groupContext returns a context that ends once every call's context has
// ended: the group's statement is cancelled only when no one waits for it.
func groupContext(group []*groupCall) (context.Context, func()) {
	if len(group) == 1 {
		return group[0].ctx, func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var left atomic.Int32
	left.Store(int32(len(group)))
	stops := make([]func() bool, len(group))
	for i, g := range group {
		stops[i] = context.AfterFunc(g.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, s := range stops {
			s()
		}
		cancel()
	}
}
