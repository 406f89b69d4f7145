package audit_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
)

// fakeTx records how a joint transaction ended.
type fakeTx struct {
	mu                sync.Mutex
	rolledBack, ended int
	undone            [][]int
	committed         [][]audit.Event
	committedLeft     [][]int
}

func (f *fakeTx) jointTx() *audit.JointTx {
	return audit.NewJointTx(f,
		func() { f.mu.Lock(); f.rolledBack++; f.mu.Unlock() },
		func(_ context.Context, left []int) error {
			f.mu.Lock()
			f.undone = append(f.undone, left)
			f.mu.Unlock()
			return nil
		},
		func() { f.mu.Lock(); f.ended++; f.mu.Unlock() })
}

// record adds ev for the call j the way the sink does and returns the
// call's outcome: Wait for all but the event that completes the call's
// events, which commits with commitErr.
func (f *fakeTx) record(ctx context.Context, j *audit.Joint, ev audit.Event, commitErr error) error {
	t, complete, err := j.Add(ev)
	switch {
	case err != nil:
		return err
	case t == nil:
		return errors.New("Add() returned no transaction for an attached call")
	case !complete:
		return j.Wait(ctx)
	}
	return j.Commit(ctx, func(evs []audit.Event, left []int) error {
		if err := t.Undo(ctx, left); err != nil {
			return err
		}
		f.mu.Lock()
		f.committed = append(f.committed, evs)
		f.committedLeft = append(f.committedLeft, left)
		f.mu.Unlock()
		return commitErr
	})
}

// TestJointCommitsEveryCallOnce: two calls share a transaction; their four
// events reach the commit together, once, and every event gets the
// commit's result.
func TestJointCommitsEveryCallOnce(t *testing.T) {
	ctxA, a := audit.WithJoint(context.Background())
	ctxB, b := audit.WithJoint(context.Background())
	if audit.JointFrom(ctxA) != a {
		t.Fatal("JointFrom(ctx) is not the joint WithJoint made")
	}
	f := &fakeTx{}
	f.jointTx().Attach(a, b)
	a.Expect(3)
	commitErr := errors.New("commit failed")
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { errs[i] = f.record(ctxA, a, audit.Event{Caller: "a", Count: i}, commitErr) })
	}
	wg.Go(func() { errs[3] = f.record(ctxB, b, audit.Event{Caller: "b"}, commitErr) })
	wg.Wait()
	if len(f.committed) != 1 || len(f.committed[0]) != 4 || len(f.committedLeft[0]) != 0 {
		t.Fatalf("commits = %v (left %v), want one commit of 4 events, none left", f.committed, f.committedLeft)
	}
	for i, err := range errs {
		if !errors.Is(err, commitErr) {
			t.Errorf("event %d result = %v, want the commit's result", i, err)
		}
	}
	a.Abort()
	b.Abort()
	if f.rolledBack != 0 || f.ended != 1 {
		t.Errorf("after the commit and Abort(): rolled back %d, ended %d times; want 0, 1", f.rolledBack, f.ended)
	}
}

// TestJointCallThatLeaves: a call that ends without its events (Abort)
// leaves: the others commit, with its records taken out, and it can add
// no event afterwards.
func TestJointCallThatLeaves(t *testing.T) {
	ctxA, a := audit.WithJoint(context.Background())
	_, b := audit.WithJoint(context.Background())
	_, c := audit.WithJoint(context.Background())
	c.Abort() // before its records were attached
	f := &fakeTx{}
	f.jointTx().Attach(a, b, c)
	done := make(chan error)
	go func() { done <- f.record(ctxA, a, audit.Event{Caller: "a"}, nil) }()
	b.Abort()
	if err := <-done; err != nil {
		t.Fatalf("the remaining call's outcome = %v, want nil", err)
	}
	if len(f.committed) != 1 || len(f.committed[0]) != 1 || !slices.Equal(f.committedLeft[0], []int{1, 2}) {
		t.Errorf("commits = %v (left %v), want a's event with calls 1 and 2 left", f.committed, f.committedLeft)
	}
	if len(f.undone) != 1 || !slices.Equal(f.undone[0], []int{1, 2}) {
		t.Errorf("undone = %v, want [[1 2]]", f.undone)
	}
	if _, _, err := b.Add(audit.Event{Caller: "b"}); err == nil {
		t.Error("Add() after Abort() error = nil, want the call to fail")
	}
}

// TestJointAllLeave: when every call leaves, the transaction is rolled
// back once and nothing is committed.
func TestJointAllLeave(t *testing.T) {
	_, a := audit.WithJoint(context.Background())
	_, b := audit.WithJoint(context.Background())
	f := &fakeTx{}
	f.jointTx().Attach(a, b)
	a.Abort()
	b.Abort()
	a.Abort()
	if f.rolledBack != 1 || f.ended != 1 || len(f.committed) != 0 {
		t.Errorf("rolled back %d, ended %d, commits %d; want 1, 1, 0", f.rolledBack, f.ended, len(f.committed))
	}
}

// TestJointFail: an event that cannot be written fails its call: the
// call's waiting event gets the error and its records are not committed.
func TestJointFail(t *testing.T) {
	ctx, j := audit.WithJoint(context.Background())
	f := &fakeTx{}
	f.jointTx().Attach(j)
	j.Expect(2)
	if _, complete, err := j.Add(audit.Event{Caller: "c"}); complete || err != nil {
		t.Fatalf("Add() of the first of 2 events = complete %v, %v; want false, nil", complete, err)
	}
	bad := errors.New("invalid event")
	done := make(chan error)
	go func() { done <- j.Wait(ctx) }()
	j.Fail(bad)
	if err := <-done; !errors.Is(err, bad) {
		t.Errorf("Wait() after Fail() = %v, want %v", err, bad)
	}
	if f.rolledBack != 1 || len(f.committed) != 0 {
		t.Errorf("Fail() of the only call: rolled back %d, commits %d; want 1, 0", f.rolledBack, len(f.committed))
	}
}

// TestJointWithoutTransaction: a call with no records attached writes its
// events on its own, until it has ended.
func TestJointWithoutTransaction(t *testing.T) {
	_, j := audit.WithJoint(context.Background())
	if tx, complete, err := j.Add(audit.Event{Caller: "c"}); tx != nil || complete || err != nil {
		t.Errorf("Add() without a transaction = %v, %v, %v; want nil, false, nil", tx, complete, err)
	}
	j.Abort()
	if _, _, err := j.Add(audit.Event{Caller: "c"}); err == nil {
		t.Error("Add() after Abort() error = nil, want the call to fail")
	}
}
