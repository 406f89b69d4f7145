package audit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Joint lets one call's records and its audit events commit in one
// database transaction, when the store and the audit sink share a
// database. The store inserts the records of one or more calls in a
// transaction (JointTx) and attaches each call's Joint to it; the sink
// adds each call's events (Add) and, once every call of the transaction
// has added its events or left, commits records and events together. A
// call that ends without its events (Abort, Fail) leaves: the store takes
// its records out of the transaction before the commit, and nothing of it
// is written. A call without records (nothing vaulted) is never attached,
// and the sink writes its events as usual.
type Joint struct {
	mu    sync.Mutex
	jt    *JointTx // set once, by Attach
	state jointState
	want  int // events the call writes
	evs   []Event
	done  chan struct{} // closed when the call's outcome (err) is final
	err   error
}

type jointState int

const (
	jointOpen  jointState = iota // events being added
	jointReady                   // all events added: waiting for the commit
	jointLeft                    // left without its events (err says why)
	jointEnded                   // committed, or the commit failed (err)
)

type jointKey struct{}

// WithJoint returns ctx carrying a new Joint.
func WithJoint(ctx context.Context) (context.Context, *Joint) {
	j := &Joint{want: 1, done: make(chan struct{})}
	return context.WithValue(ctx, jointKey{}, j), j
}

// JointFrom returns the Joint ctx carries, or nil.
func JointFrom(ctx context.Context) *Joint {
	j, _ := ctx.Value(jointKey{}).(*Joint)
	return j
}

// JointTx is a database transaction holding the records of one or more
// calls, each with its Joint: the sink commits it with the events of every
// call that added them, after the store's undo has taken out the records
// of the calls that left.
type JointTx struct {
	tx       any
	rollback func()
	undo     func(ctx context.Context, left []int) error
	end      func()

	mu      sync.Mutex
	members []*Joint
	open    int           // members neither ready nor left
	ready   chan struct{} // closed when open reaches 0 with a member ready
	claimed bool
}

// NewJointTx wraps the store's transaction tx. rollback undoes it if no
// call commits; undo, run in tx by the sink before the events are added,
// takes out the records of the members (by position in Attach) that left;
// end, if set, is called once tx has ended either way.
func NewJointTx(tx any, rollback func(), undo func(ctx context.Context, left []int) error, end func()) *JointTx {
	if end == nil {
		end = func() {}
	}
	return &JointTx{tx: tx, rollback: rollback, undo: undo, end: end, ready: make(chan struct{})}
}

// Tx returns the transaction.
func (t *JointTx) Tx() any { return t.tx }

// Attach makes js, whose records are in t, its members; call it once, with
// every call of the transaction, before any of them learns its outcomes.
// A call that has already left counts as left (its records are taken out).
func (t *JointTx) Attach(js ...*Joint) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, j := range js {
		j.mu.Lock()
		j.jt = t
		if j.state == jointOpen {
			t.open++
		}
		j.mu.Unlock()
	}
	t.members = js
	if t.open == 0 {
		t.settle()
	}
}

// settle runs once no member is open: with a member ready, the sink may
// commit; with none, the transaction is rolled back. t.mu is held.
func (t *JointTx) settle() {
	for _, j := range t.members {
		if j.state == jointReady {
			close(t.ready)
			return
		}
	}
	t.claimed = true
	t.rollback()
	t.end()
}

// Ready is closed once every member has added its events or left, with at
// least one member's events to commit.
func (t *JointTx) Ready() <-chan struct{} { return t.ready }

// Claim makes the caller the one to commit t (true for one caller only)
// and returns the events of the members ready, in member order, and the
// positions of those that left.
func (t *JointTx) Claim() (evs []Event, left []int, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.claimed {
		return nil, nil, false
	}
	t.claimed = true
	for i, j := range t.members {
		j.mu.Lock()
		if j.state == jointReady {
			evs = append(evs, j.evs...)
		} else {
			left = append(left, i)
		}
		j.mu.Unlock()
	}
	return evs, left, true
}

// Undo takes the records of the members at positions left out of the
// transaction (the store's undo).
func (t *JointTx) Undo(ctx context.Context, left []int) error {
	if len(left) == 0 {
		return nil
	}
	return t.undo(ctx, left)
}

// Finish reports the commit's result (after Claim) to every member ready.
func (t *JointTx) Finish(err error) {
	t.mu.Lock()
	for _, j := range t.members {
		j.mu.Lock()
		if j.state == jointReady {
			j.end(jointEnded, err)
		}
		j.mu.Unlock()
	}
	t.mu.Unlock()
	t.end()
}

// fail ends an unclaimed transaction with err: rolled back, every member
// ready gets err.
func (t *JointTx) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.claimed {
		return
	}
	t.claimed = true
	t.rollback()
	for _, j := range t.members {
		j.mu.Lock()
		if j.state == jointReady || j.state == jointOpen {
			j.end(jointEnded, err)
		}
		j.mu.Unlock()
	}
	t.end()
}

// end sets the call's final state and outcome. j.mu is held.
func (j *Joint) end(state jointState, err error) {
	j.state, j.err = state, err
	close(j.done)
}

// Attached returns the transaction holding the call's records (nil if
// none yet) and whether the call can still add to it (it has neither
// added all its events nor left): a call inserting records again (a
// retry after a taken ID) adds them to that transaction.
func (j *Joint) Attached() (t *JointTx, open bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.jt, j.state == jointOpen
}

// Expect says how many events the call writes (1 unless set): its events
// are committed once all of them are added.
func (j *Joint) Expect(n int) {
	j.mu.Lock()
	j.want = max(n, 1)
	j.mu.Unlock()
}

// Add adds ev to the call's events. It returns the call's transaction (nil
// if the call has none: write ev on its own); complete is true for the
// event that completes the call's events: its caller commits (Commit), the
// others Wait. err is set if the call has already left or ended (its
// records are not committed, so the call must fail).
func (j *Joint) Add(ev Event) (t *JointTx, complete bool, err error) {
	j.mu.Lock()
	t = j.jt
	if t == nil {
		defer j.mu.Unlock()
		if j.state != jointOpen {
			return nil, false, j.errOrDone()
		}
		return nil, false, nil
	}
	j.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state != jointOpen {
		return nil, false, j.errOrDone()
	}
	j.evs = append(j.evs, ev)
	if len(j.evs) < j.want {
		return t, false, nil
	}
	j.state = jointReady
	t.open--
	if t.open == 0 {
		t.settle()
	}
	return t, true, nil
}

// errOrDone is why an ended call cannot add events. j.mu is held.
func (j *Joint) errOrDone() error {
	if j.err != nil {
		return j.err
	}
	return ErrJointDone
}

// ErrJointDone is returned by Add after the call's transaction was
// committed or its call left.
var ErrJointDone = errors.New("audit: the call's transaction has already ended")

// jointWait bounds how long a call waits for the other events of its
// transaction: every call adds its events or leaves (Abort is deferred)
// within its own handling, so only a stuck call makes it expire.
const jointWait = 30 * time.Second

// ErrJointIncomplete is returned when events of the transaction never came.
var ErrJointIncomplete = errors.New("audit: a call's events never came; the records were rolled back")

// Commit waits, for the event that completed its call's events, until the
// transaction is ready, and then, if it is the first to claim it, commits
// it with commit (given every ready member's events and the positions of
// the members that left) and reports the result to all. It returns the
// call's outcome. The wait is not cut short by ctx: the call's events are
// in the transaction with its records, and someone must commit or roll it
// back; every member adds its events or leaves within its own call.
func (j *Joint) Commit(ctx context.Context, commit func(evs []Event, left []int) error) error {
	t := j.jt
	timer := time.NewTimer(jointWait)
	defer timer.Stop()
	select {
	case <-t.ready:
		if evs, left, ok := t.Claim(); ok {
			t.Finish(commit(evs, left))
		}
	case <-j.done: // a member that claimed the transaction finished it
	case <-timer.C:
		t.fail(ErrJointIncomplete)
	}
	return j.Wait(ctx)
}

// Wait returns the call's outcome: the commit's result, or why it left.
func (j *Joint) Wait(ctx context.Context) error {
	t := time.NewTimer(jointWait)
	defer t.Stop()
	select {
	case <-j.done:
		return j.err
	case <-ctx.Done():
		j.Fail(ctx.Err())
	case <-t.C:
		j.Fail(ErrJointIncomplete)
	}
	<-j.done // Fail ended it, or the commit finished first
	return j.err
}

// Abort makes a call that has not added all its events leave its
// transaction: its records are taken out and not committed. Calls end with
// it (deferred); it does nothing to a call whose events were added.
func (j *Joint) Abort() { j.leave(ErrJointIncomplete) }

// Fail makes the call leave with err when one of its events cannot be
// written at all: its records are not committed, and its other events
// waiting get err.
func (j *Joint) Fail(err error) { j.leave(err) }

func (j *Joint) leave(err error) {
	j.mu.Lock()
	t := j.jt
	if t == nil {
		// Not attached (yet): Attach will count the call as left.
		if j.state == jointOpen {
			j.end(jointLeft, err)
		}
		j.mu.Unlock()
		return
	}
	j.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state != jointOpen {
		return
	}
	j.end(jointLeft, err)
	t.open--
	if t.open == 0 && !t.claimed {
		t.settle()
	}
}
