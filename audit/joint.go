package audit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Joint lets one call's records and its audit events commit in one
// database transaction, when the store and the audit sink share a
// database. The store begins the transaction with the call's first insert
// (Begin); the sink adds the call's events to it and commits records and
// events together (Add, then Finish); if the call ends before that, Abort
// rolls the records back. A call without records (nothing vaulted) never
// begins one, and the sink writes its events as usual.
type Joint struct {
	mu       sync.Mutex
	tx       any
	rollback func()
	taken    bool
	want     int // events the call writes
	evs      []Event
	done     chan struct{}
	err      error
}

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

// ErrJointDone is returned by Begin after the joint was committed or
// aborted.
var ErrJointDone = errors.New("audit: the call's transaction has already ended")

// Begin returns the joint's transaction, beginning it with begin on first
// use; rollback undoes it if the sink never takes it.
func (j *Joint) Begin(begin func() (tx any, rollback func(), err error)) (any, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.taken {
		return nil, ErrJointDone
	}
	if j.tx != nil {
		return j.tx, nil
	}
	tx, rb, err := begin()
	if err != nil {
		return nil, err
	}
	j.tx, j.rollback = tx, rb
	return tx, nil
}

// Expect says how many events the call writes (1 unless set): the sink
// commits once all of them are added.
func (j *Joint) Expect(n int) {
	j.mu.Lock()
	j.want = max(n, 1)
	j.mu.Unlock()
}

// Add adds ev to the joint. It returns the transaction (nil if none was
// begun: write ev on its own). When ev completes the call's events, last
// is true and evs holds them all: the caller commits them with tx and
// reports with Finish; the other callers Wait.
func (j *Joint) Add(ev Event) (tx any, evs []Event, last bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.tx == nil || j.taken {
		return nil, nil, false
	}
	j.evs = append(j.evs, ev)
	if len(j.evs) < j.want {
		return j.tx, nil, false
	}
	j.taken = true
	return j.tx, j.evs, true
}

// Finish reports the commit's result to the callers waiting in Wait.
func (j *Joint) Finish(err error) {
	j.err = err
	close(j.done)
}

// jointWait bounds how long an event waits for the rest of its call's
// events (they are added together, so only a caller that never adds one
// makes it expire).
const jointWait = 30 * time.Second

// ErrJointIncomplete is returned when a call's other events never came.
var ErrJointIncomplete = errors.New("audit: the call's other events never came; its records were rolled back")

// Wait returns the result of the commit of the call's events.
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
	<-j.done // Fail closed it, or the commit finished first
	return j.err
}

// Abort rolls back a transaction the sink did not take. Calls end with it
// (deferred), so records whose events were never written do not stay.
func (j *Joint) Abort() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.tx != nil && !j.taken {
		j.taken = true
		j.rollback()
	}
}

// Fail ends the joint with err when one of the call's events cannot be
// written at all: the records are rolled back and waiting callers get err.
func (j *Joint) Fail(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.tx == nil || j.taken {
		return
	}
	j.taken = true
	j.rollback()
	j.err = err
	close(j.done)
}
