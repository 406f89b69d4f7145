package postgres

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/internal/pgtest"
	"github.com/privacyvault/privacyvault/store"
)

// jointRecord is a record of class c with a random ID and the given index
// (nil: none).
func jointRecord(index []byte) store.Record {
	id, ct := make([]byte, 16), make([]byte, 40)
	rand.Read(id)
	rand.Read(ct)
	return store.Record{Class: "c", ID: id, Index: index, KeyVersion: 1, Ciphertext: ct, CreatedAt: time.Now()}
}

// stagedTogether inserts each call's records with its joint while every
// slot is taken, waits until all are queued, then frees one slot: the
// calls are staged in one joint transaction. It returns their outcomes.
func stagedTogether(t *testing.T, s *Store, calls [][]store.Record) ([]context.Context, []*audit.Joint, [][]store.Outcome) {
	t.Helper()
	c := &s.joint
	c.mu.Lock()
	c.open = jointGroups // every slot taken: the calls queue
	c.mu.Unlock()
	ctxs, joints := make([]context.Context, len(calls)), make([]*audit.Joint, len(calls))
	outs, errs := make([][]store.Outcome, len(calls)), make([]error, len(calls))
	done := make(chan int)
	queued := func(n int) {
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(2 * time.Millisecond) {
			c.mu.Lock()
			got := len(c.queue)
			c.mu.Unlock()
			if got == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("queued calls = %d, want %d", got, n)
			}
		}
	}
	for i, recs := range calls {
		ctxs[i], joints[i] = audit.WithJoint(context.Background())
		go func() {
			outs[i], _, errs[i] = s.InsertStaged(ctxs[i], recs)
			done <- i
		}()
		queued(i + 1) // in order
	}
	c.ended() // one slot's group: the queued calls
	for range calls {
		<-done
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("InsertStaged(call %d) error = %v", i, err)
		}
	}
	return ctxs, joints, outs
}

func abortAll(joints []*audit.Joint) {
	for _, j := range joints {
		j.Abort()
	}
}

// commitCall adds the call's one event and commits the joint transaction
// the way the audit sink does (undo, then commit), without a chain.
func commitCall(ctx context.Context, j *audit.Joint) error {
	jt, complete, err := j.Add(audit.Event{Caller: "test"})
	if err != nil || !complete {
		return err
	}
	return j.Commit(ctx, func(_ []audit.Event, left []int) error {
		tx := jt.Tx().(*jointGroup)
		if err := jt.Undo(ctx, left); err != nil {
			tx.Rollback(ctx)
			return err
		}
		return tx.Commit(ctx)
	})
}

// TestJointGroupCallLeaves: calls staged in one joint transaction commit
// together; the records of a call that left are taken out, except a
// deterministic record another call of the group was answered with.
func TestJointGroupCallLeaves(t *testing.T) {
	s, err := Open(context.Background(), Options{DSN: pgtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	idx, idx2 := make([]byte, 32), make([]byte, 32)
	rand.Read(idx)
	rand.Read(idx2)
	calls := [][]store.Record{
		{jointRecord(nil)},                    // 0: commits
		{jointRecord(idx), jointRecord(nil)},  // 1: leaves; its idx record is kept (call 2 names it)
		{jointRecord(idx)},                    // 2: commits, answered with call 1's record
		{jointRecord(idx2), jointRecord(nil)}, // 3: leaves; both records go
	}
	ctxs, joints, outs := stagedTogether(t, s, calls)
	defer abortAll(joints) // before Close, which waits for the connections
	if outs[1][0].Status != store.Inserted || outs[2][0].Status != store.Existing || string(outs[2][0].ID) != string(calls[1][0].ID) {
		t.Fatalf("outcomes of one deterministic value in calls 1, 2 = %v, %v; want Inserted, Existing (call 1's ID)", outs[1][0], outs[2][0])
	}
	joints[1].Abort()
	joints[3].Abort()
	errs := make(chan error, 2)
	for _, i := range []int{0, 2} {
		go func() { errs <- commitCall(ctxs[i], joints[i]) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("commit of the group = %v", err)
		}
	}
	var xmins int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(DISTINCT xmin::text) FROM pv_records`).Scan(&xmins); err != nil || xmins != 1 {
		t.Errorf("transactions holding the records = %d, %v; want 1", xmins, err)
	}
	tests := []struct {
		rec  store.Record
		kept bool
	}{
		{calls[0][0], true},
		{calls[1][0], true},
		{calls[1][1], false},
		{calls[2][0], false}, // never written: answered with call 1's
		{calls[3][0], false},
		{calls[3][1], false},
	}
	for i, tt := range tests {
		_, err := s.Get(context.Background(), tt.rec.Class, tt.rec.ID)
		if got := err == nil; got != tt.kept {
			t.Errorf("record %d stored = %v (%v), want %v", i, got, err, tt.kept)
		}
	}
}

// TestJointGroupAllLeave: when every call of a joint transaction leaves,
// nothing is written and the slot is given back.
func TestJointGroupAllLeave(t *testing.T) {
	s, err := Open(context.Background(), Options{DSN: pgtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	calls := [][]store.Record{{jointRecord(nil)}, {jointRecord(nil)}}
	_, joints, _ := stagedTogether(t, s, calls)
	defer abortAll(joints)
	joints[0].Abort()
	joints[1].Abort()
	for i, recs := range calls {
		if _, err := s.Get(context.Background(), recs[0].Class, recs[0].ID); err != store.ErrNotFound {
			t.Errorf("Get(record of call %d, which left) error = %v, want ErrNotFound", i, err)
		}
	}
	// The rolled-back transaction's slot is free again: a new call is
	// staged and commits.
	s.joint.mu.Lock()
	s.joint.open--
	s.joint.mu.Unlock()
	ctx, j := audit.WithJoint(context.Background())
	rec := jointRecord(nil)
	if _, _, err := s.InsertStaged(ctx, []store.Record{rec}); err != nil {
		t.Fatal(err)
	}
	if err := commitCall(ctx, j); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), rec.Class, rec.ID); err != nil {
		t.Errorf("Get(record of a call after the group) error = %v", err)
	}
}

// TestJointRetryJoinsItsTransaction: a call that inserts again (as core
// does after a taken ID) adds the records to its joint transaction: they
// commit with its events, or go when it leaves.
func TestJointRetryJoinsItsTransaction(t *testing.T) {
	s, err := Open(context.Background(), Options{DSN: pgtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, commit := range []bool{true, false} {
		ctx, j := audit.WithJoint(context.Background())
		first, again := jointRecord(nil), jointRecord(nil)
		for _, r := range []store.Record{first, again} {
			if out, _, err := s.InsertStaged(ctx, []store.Record{r}); err != nil || out[0].Status != store.Inserted {
				t.Fatalf("InsertStaged() = %v, %v; want Inserted", out, err)
			}
		}
		if commit {
			if err := commitCall(ctx, j); err != nil {
				t.Fatal(err)
			}
		} else {
			j.Abort()
		}
		var xmins int
		err := s.pool.QueryRow(context.Background(), `SELECT count(DISTINCT xmin::text) FROM pv_records WHERE id = ANY($1)`, [][]byte{first.ID, again.ID}).Scan(&xmins)
		if want := map[bool]int{true: 1, false: 0}[commit]; err != nil || xmins != want {
			t.Errorf("committed %v: transactions holding the call's records = %d, %v; want %d", commit, xmins, err, want)
		}
		for i, r := range []store.Record{first, again} {
			if _, err := s.Get(context.Background(), r.Class, r.ID); (err == nil) != commit {
				t.Errorf("committed %v: Get(record %d) error = %v", commit, i, err)
			}
		}
	}
}
