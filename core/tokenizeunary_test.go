package core_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// stagingAuditor stages calls the way the audit log does with the Badger
// journal, over a plain store: stage runs with a transaction whose
// inserts go to the store (the first collide of them reported as
// collisions, or all failing with fail), and the events it returns are
// recorded.
type stagingAuditor struct {
	memAuditor
	st      core.Store
	collide int
	fail    error
	staged  int
	// reruns: stage first runs this many times in transactions given up
	// (their inserts decided, nothing written), as when another call's
	// stage in the batch fails.
	reruns int
}

var _ core.StagedAuditor = (*stagingAuditor)(nil)

func (a *stagingAuditor) Stages() bool { return true }

func (a *stagingAuditor) RecordStaged(ctx context.Context, stage func(tx any) ([]core.AuditEvent, error)) error {
	a.staged++
	for range a.reruns {
		if _, err := stage(givenUpTx{a}); err != nil {
			return err
		}
	}
	evs, err := stage(stagingTx{a})
	if err != nil {
		return err
	}
	for _, e := range evs {
		if err := a.Record(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

type stagingTx struct{ a *stagingAuditor }

// givenUpTx decides inserts as a transaction that is then discarded: the
// first of them collide (using up the auditor's collisions), the rest are
// inserted; nothing is written.
type givenUpTx struct{ a *stagingAuditor }

func (t givenUpTx) InsertTx(recs []store.Record) ([]store.Outcome, error) {
	out := make([]store.Outcome, len(recs))
	for i, r := range recs {
		out[i] = store.Outcome{Status: store.Inserted, ID: r.ID}
		if t.a.collide > 0 {
			t.a.collide--
			out[i] = store.Outcome{Status: store.Collision}
		}
	}
	return out, nil
}

func (t stagingTx) InsertTx(recs []store.Record) ([]store.Outcome, error) {
	a := t.a
	if a.fail != nil {
		return nil, a.fail
	}
	out := make([]store.Outcome, len(recs))
	for i, r := range recs {
		if a.collide > 0 {
			a.collide--
			out[i] = store.Outcome{Status: store.Collision}
			continue
		}
		o, wait, err := a.st.InsertStaged(context.Background(), []store.Record{r})
		if err == nil {
			err = wait()
		}
		if err != nil {
			return nil, err
		}
		out[i] = o[0]
	}
	return out, nil
}

func newStagedService(t *testing.T, a *stagingAuditor) *core.Service {
	t.Helper()
	a.st = tempStore(t)
	svc, err := core.New(context.Background(), core.Config{
		Classes:       []core.ClassSpec{{Name: "card", Mode: tokenizer.Random}},
		Store:         a.st,
		Keys:          tempKeys(t),
		Policy:        mustPolicy(t, policy.Spec{Grants: []policy.Grant{{Identity: "app", Purpose: "payment", Class: "card", Reveal: policy.Plain}}}),
		Auditor:       a,
		Fingerprints:  testFingerprints{},
		MaxValueBytes: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// A small call's records are inserted in the audit writer's transaction:
// a collided identifier is drawn again there, and the call's one event
// names the tokens finally issued.
func TestStagedTokenizeRetriesCollisions(t *testing.T) {
	a := &stagingAuditor{collide: 2}
	svc := newStagedService(t, a)
	items := []core.TokenizeItem{{Class: "card", Value: []byte("4111111111111111")}, {Class: "card", Value: []byte("5500005555555559")}}
	res, err := svc.Tokenize(context.Background(), "app", items)
	if err != nil {
		t.Fatalf("Tokenize() error = %v", err)
	}
	if a.staged != 1 || a.collide != 0 {
		t.Fatalf("staged appends = %d with %d collisions left, want 1 and 0 (the call took the usual way)", a.staged, a.collide)
	}
	if len(a.events) != 1 || a.events[0].Count != 2 || len(a.events[0].Tokens) != 2 {
		t.Fatalf("events = %+v, want one event of 2 items with 2 token fingerprints", a.events)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("Tokenize()[%d] error = %v", i, r.Err)
		}
		if want := fp("t", "card", r.Token); a.events[0].Tokens[i] != want {
			t.Errorf("event token %d = %s, want the fingerprint of the issued token %s", i, a.events[0].Tokens[i], want)
		}
		got, err := svc.Detokenize(context.Background(), "app", "payment", []core.DetokenizeItem{{Class: "card", Token: r.Token}})
		if err != nil || got[0].Err != nil || !bytes.Equal(got[0].Value, items[i].Value) {
			t.Errorf("Detokenize(token %d after collision) = %q, %v; want %q", i, got[0].Value, got[0].Err, items[i].Value)
		}
	}
}

// A store failure inside the stage fails the call with that error — not
// as an audit failure — and returns no token.
func TestStagedTokenizeStoreError(t *testing.T) {
	errDisk := errors.New("disk gone")
	a := &stagingAuditor{fail: errDisk}
	svc := newStagedService(t, a)
	res, err := svc.Tokenize(context.Background(), "app", []core.TokenizeItem{{Class: "card", Value: []byte("4111111111111111")}})
	if !errors.Is(err, errDisk) || errors.Is(err, core.ErrAuditFailed) || res != nil {
		t.Fatalf("Tokenize() = %v, %v; want no results and the store's error, not an audit failure", res, err)
	}
	if len(a.events) != 0 {
		t.Errorf("events = %+v, want none from a failed stage", a.events)
	}
}

// A stage run again after its batch was given up (another call's stage
// failed, or the transaction was full) issues the tokens of the run that
// commits, and the call's one event names those, not the earlier run's.
func TestStagedTokenizeRerun(t *testing.T) {
	a := &stagingAuditor{collide: 1, reruns: 2}
	svc := newStagedService(t, a)
	items := []core.TokenizeItem{{Class: "card", Value: []byte("4111111111111111")}, {Class: "card", Value: []byte("5500005555555559")}}
	res, err := svc.Tokenize(context.Background(), "app", items)
	if err != nil {
		t.Fatalf("Tokenize() error = %v", err)
	}
	if len(a.events) != 1 || len(a.events[0].Tokens) != 2 {
		t.Fatalf("events = %+v, want one event of 2 token fingerprints", a.events)
	}
	for i, r := range res {
		if want := fp("t", "card", r.Token); r.Err != nil || a.events[0].Tokens[i] != want {
			t.Errorf("event token %d = %s, %v; want the fingerprint of the issued token %s", i, a.events[0].Tokens[i], r.Err, want)
		}
		got, err := svc.Detokenize(context.Background(), "app", "payment", []core.DetokenizeItem{{Class: "card", Token: r.Token}})
		if err != nil || got[0].Err != nil || !bytes.Equal(got[0].Value, items[i].Value) {
			t.Errorf("Detokenize(token %d after reruns) = %q, %v; want %q", i, got[0].Value, got[0].Err, items[i].Value)
		}
	}
}
