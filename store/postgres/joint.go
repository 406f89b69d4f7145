package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/store"
)

// jointGroups is how many joint transactions may be open at once. One is
// committed by the audit sink (its chain row orders them, so their commits
// are serial) while the next gathers the calls arriving meanwhile.
const jointGroups = 2

// jointCommitter groups the inserts of tokenize calls that carry an
// audit.Joint (audit.sink postgres): the calls that arrive while the open
// joint transactions wait for their events share the next one, in one
// statement, and the audit sink commits their records and events together
// with one chain-row update and one WAL flush, instead of one after
// another.
type jointCommitter struct {
	pool *pgxpool.Pool

	mu    sync.Mutex
	queue []*jointCall
	open  int // joint transactions begun and not yet ended
}

// jointCall is one InsertStaged waiting for its joint transaction.
type jointCall struct {
	ctx    context.Context
	j      *audit.Joint
	recs   []store.Record
	out    []store.Outcome
	err    error
	staged chan struct{}
}

// insert inserts recs in the next joint transaction and returns their
// outcomes; the audit sink commits them with the call's events. A call
// whose records are already in a joint transaction (a retry after a taken
// ID) adds these to it.
func (c *jointCommitter) insert(ctx context.Context, j *audit.Joint, recs []store.Record) ([]store.Outcome, error) {
	if jt, open := j.Attached(); jt != nil {
		if !open {
			return nil, audit.ErrJointDone
		}
		return insertMore(ctx, jt, j, recs)
	}
	call := &jointCall{ctx: ctx, j: j, recs: recs, staged: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, call)
	lead := c.open < jointGroups
	if lead {
		c.open++
	}
	c.mu.Unlock()
	if lead {
		// A lone caller stages its own transaction: no hand-off.
		c.stageNext()
	}
	select {
	case <-call.staged:
	case <-ctx.Done():
		// If the records were inserted meanwhile, the call has left
		// (Abort) and they are taken out before the commit.
		return nil, fmt.Errorf("store/postgres: insert: %w", ctx.Err())
	}
	return call.out, call.err
}

// take removes the next group from the queue, or releases a slot and
// returns nil if the queue is empty.
func (c *jointCommitter) take() []*jointCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		c.open--
		return nil
	}
	n, k := 0, 0
	for k < len(c.queue) && (k == 0 || n+len(c.queue[k].recs) <= groupMax) {
		n += len(c.queue[k].recs)
		k++
	}
	group := make([]*jointCall, k)
	copy(group, c.queue)
	c.queue = append(c.queue[:0], c.queue[k:]...)
	return group
}

// ended is called when a joint transaction has ended: its slot goes to
// the calls queued meanwhile, if any.
func (c *jointCommitter) ended() {
	go c.stageNext()
}

// stageNext begins a joint transaction for the queued calls, holding a
// slot that ended gives back.
func (c *jointCommitter) stageNext() {
	group := c.take()
	if group == nil {
		return
	}
	live := group[:0:0]
	for _, g := range group {
		if g.ctx.Err() != nil {
			g.err = fmt.Errorf("store/postgres: insert: %w", g.ctx.Err())
			close(g.staged)
			continue
		}
		live = append(live, g)
	}
	if len(live) == 0 {
		c.ended()
		return
	}
	err := c.stage(live)
	if err != nil && len(live) > 1 && !errors.Is(err, store.ErrUnavailable) {
		// Not the database being away: one call's records may be what
		// the statement refused, so each call gets a transaction and an
		// answer of its own (slots beyond the bound, given back as each
		// ends).
		c.mu.Lock()
		c.open += len(live) - 1
		c.mu.Unlock()
		for _, g := range live {
			if err := c.stage([]*jointCall{g}); err != nil {
				g.err = err
				close(g.staged)
				c.ended()
			}
		}
		return
	}
	if err != nil {
		for _, g := range live {
			g.err = err
			close(g.staged)
		}
		c.ended()
	}
}

// stage inserts the calls' records in a new transaction, attaches the
// calls' joints to it and hands each call its outcomes. On error nothing
// is left begun and no call has been answered.
func (c *jointCommitter) stage(calls []*jointCall) error {
	ctx, stop := jointContext(calls)
	defer stop()
	var all []store.Record
	for _, g := range calls {
		all = append(all, g.recs...)
	}
	out, tx, err := stageJoint(ctx, c.pool, all)
	if err != nil {
		return wrapErr("insert", err)
	}
	outs := make([][]store.Outcome, len(calls))
	for i, g := range calls {
		outs[i], out = out[:len(g.recs):len(g.recs)], out[len(g.recs):]
	}
	g := &jointGroup{pipeTx: tx, calls: calls, outs: outs}
	jt := audit.NewJointTx(g,
		func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			tx.Rollback(context.Background())
		},
		func(ctx context.Context, left []int) error {
			g.mu.Lock()
			defer g.mu.Unlock()
			return undoJoint(ctx, tx, g.calls, g.outs, left)
		},
		c.ended)
	joints := make([]*audit.Joint, len(calls))
	for i, g := range calls {
		joints[i] = g.j
	}
	jt.Attach(joints...)
	for i, g := range calls {
		g.out = outs[i]
		close(g.staged)
	}
	return nil
}

// jointGroup is a joint transaction's store side: the transaction (the
// audit sink appends to it and commits it) and what each call inserted in
// it.
type jointGroup struct {
	*pipeTx
	mu    sync.Mutex // guards calls' records, outs and the Tx's use by the store
	calls []*jointCall
	outs  [][]store.Outcome
}

// insertMore inserts recs of the call j into its joint transaction jt.
// No other statement runs on the transaction meanwhile: the sink commits
// it only once j has added its events or left, and the group's mutex
// keeps two such calls apart. If the statement fails, the transaction is
// aborted, and its commit fails for every call in it: nothing is stored
// without its events.
func insertMore(ctx context.Context, jt *audit.JointTx, j *audit.Joint, recs []store.Record) ([]store.Outcome, error) {
	g, ok := jt.Tx().(*jointGroup)
	if !ok {
		return nil, errors.New("store/postgres: insert: the call's joint transaction is not this store's")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	i := slices.IndexFunc(g.calls, func(c *jointCall) bool { return c.j == j })
	if i < 0 {
		return nil, errors.New("store/postgres: insert: the call is not in its joint transaction")
	}
	out, err := insertIn(ctx, g.pipeTx, recs, insertMode{})
	if err != nil {
		return nil, wrapErr("insert", err)
	}
	c := g.calls[i]
	c.recs = append(slices.Clip(c.recs), recs...)
	g.outs[i] = append(slices.Clip(g.outs[i]), out...)
	return out, nil
}

// stageJoint begins a transaction and inserts recs, first without
// ON CONFLICT for records without an index, again the usual way in a new
// transaction if an ID was taken. BEGIN travels with the insert (one round
// trip). No COPY: the transaction is the joint's.
func stageJoint(ctx context.Context, pool *pgxpool.Pool, recs []store.Record) ([]store.Outcome, *pipeTx, error) {
	for _, strict := range []bool{true, false} {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return nil, nil, err
		}
		tx := &pipeTx{conn: conn}
		out, err := insertIn(ctx, tx, recs, insertMode{strict: strict})
		if err == nil {
			return out, tx, nil
		}
		_ = tx.Rollback(context.WithoutCancel(ctx))
		if !errors.Is(err, errIDTaken) {
			return nil, nil, err
		}
	}
	return nil, nil, errors.New("store/postgres: insert: an ID was taken without ON CONFLICT")
}

// undoJoint deletes, in tx, the records inserted for the calls at
// positions left (they ended without their events), except those another
// call's outcome names (a deterministic value two calls of the group
// tokenized): that call's event covers them.
func undoJoint(ctx context.Context, tx querier, calls []*jointCall, outs [][]store.Outcome, left []int) error {
	gone := make(map[int]bool, len(left))
	for _, i := range left {
		gone[i] = true
	}
	named := map[string]bool{}
	for i, g := range calls {
		if gone[i] {
			continue
		}
		for k, o := range outs[i] {
			if o.Status == store.Existing {
				named[g.recs[k].Class+"\x00"+string(o.ID)] = true
			}
		}
	}
	var classes []string
	var ids [][]byte
	for _, i := range left {
		for k, o := range outs[i] {
			r := calls[i].recs[k]
			if o.Status == store.Inserted && !named[r.Class+"\x00"+string(r.ID)] {
				classes, ids = append(classes, r.Class), append(ids, r.ID)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `DELETE FROM pv_records WHERE (class, id) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))`, classes, ids)
	return wrapErr("insert", err)
}

// jointContext is groupContext for joint calls.
func jointContext(calls []*jointCall) (context.Context, func()) {
	gs := make([]*groupCall, len(calls))
	for i, c := range calls {
		gs[i] = &groupCall{ctx: c.ctx}
	}
	return groupContext(gs)
}
