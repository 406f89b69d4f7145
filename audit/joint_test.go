package audit_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
)

// fakeTx records how a joint's transaction ended.
type fakeTx struct{ rolledBack int }

func begun(t *testing.T) (context.Context, *audit.Joint, *fakeTx) {
	t.Helper()
	ctx, j := audit.WithJoint(context.Background())
	tx := &fakeTx{}
	got, err := j.Begin(func() (any, func(), error) { return tx, func() { tx.rolledBack++ }, nil })
	if err != nil || got != tx {
		t.Fatalf("Begin() = %v, %v; want the new transaction", got, err)
	}
	if again, _ := j.Begin(func() (any, func(), error) { return nil, nil, errors.New("begun twice") }); again != tx {
		t.Fatalf("second Begin() = %v, want the first transaction", again)
	}
	return ctx, j, tx
}

// TestJointCommitsAllEventsOnce: the call's events reach the sink's
// committer together, once; the others wait for its result.
func TestJointCommitsAllEventsOnce(t *testing.T) {
	ctx, j, tx := begun(t)
	if audit.JointFrom(ctx) != j {
		t.Fatal("JointFrom(ctx) is not the joint WithJoint made")
	}
	j.Expect(3)
	commitErr := errors.New("commit failed")
	var mu sync.Mutex
	var committed [][]audit.Event
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			gotTx, evs, last := j.Add(audit.Event{Caller: "c", Count: i})
			switch {
			case gotTx != tx:
				errs[i] = errors.New("Add returned another transaction")
			case last:
				mu.Lock()
				committed = append(committed, evs)
				mu.Unlock()
				j.Finish(commitErr)
				errs[i] = commitErr
			default:
				errs[i] = j.Wait(ctx)
			}
		})
	}
	wg.Wait()
	if len(committed) != 1 || len(committed[0]) != 3 {
		t.Fatalf("committed batches = %v, want one batch of 3 events", committed)
	}
	for i, err := range errs {
		if !errors.Is(err, commitErr) {
			t.Errorf("event %d result = %v, want the commit's result", i, err)
		}
	}
	j.Abort()
	if tx.rolledBack != 0 {
		t.Errorf("Abort() after the sink took the transaction rolled it back %d times, want 0", tx.rolledBack)
	}
}

// TestJointAbortAndFail: a transaction the sink never took is rolled back
// once; a failed event releases the events waiting with it.
func TestJointAbortAndFail(t *testing.T) {
	_, j, tx := begun(t)
	j.Abort()
	j.Abort()
	if tx.rolledBack != 1 {
		t.Errorf("Abort() twice rolled back %d times, want 1", tx.rolledBack)
	}
	if _, err := j.Begin(func() (any, func(), error) { return tx, func() {}, nil }); !errors.Is(err, audit.ErrJointDone) {
		t.Errorf("Begin() after Abort() error = %v, want ErrJointDone", err)
	}

	ctx, j2, tx2 := begun(t)
	j2.Expect(2)
	if _, _, last := j2.Add(audit.Event{Caller: "c"}); last {
		t.Fatal("Add() of the first of 2 events reported last")
	}
	bad := errors.New("invalid event")
	done := make(chan error)
	go func() { done <- j2.Wait(ctx) }()
	j2.Fail(bad)
	if err := <-done; !errors.Is(err, bad) {
		t.Errorf("Wait() after Fail() = %v, want %v", err, bad)
	}
	if tx2.rolledBack != 1 {
		t.Errorf("Fail() rolled back %d times, want 1", tx2.rolledBack)
	}
}

// TestJointWithoutTransaction: with no records begun, Add hands the event
// back to be written on its own.
func TestJointWithoutTransaction(t *testing.T) {
	_, j := audit.WithJoint(context.Background())
	if tx, evs, last := j.Add(audit.Event{Caller: "c"}); tx != nil || evs != nil || last {
		t.Errorf("Add() without a transaction = %v, %v, %v; want nil, nil, false", tx, evs, last)
	}
	j.Abort() // nothing to roll back
}
