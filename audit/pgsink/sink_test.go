package pgsink_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/audit/pgsink"
	"github.com/privacyvault/privacyvault/internal/pgtest"
	"github.com/privacyvault/privacyvault/store/postgres"
)

type fixture struct {
	st     *postgres.Store
	signer *audit.Ed25519Signer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := postgres.Open(context.Background(), postgres.Options{DSN: pgtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, signer: audit.NewEd25519Signer(priv)}
}

func (f *fixture) open(t *testing.T, instance string, accept bool) (*pgsink.Sink, error) {
	t.Helper()
	s, err := pgsink.Open(context.Background(), pgsink.Options{
		Pool: f.st.Pool(), Instance: instance, Signer: f.signer, CheckpointEvery: 2,
		LeaseTTL: time.Second, AcceptReset: accept,
	})
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

func (f *fixture) exec(t *testing.T, sql string, args ...any) int64 {
	t.Helper()
	tag, err := f.st.Pool().Exec(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return tag.RowsAffected()
}

func record(s *pgsink.Sink, n int) error {
	for range n {
		if err := s.Record(context.Background(), audit.Event{Caller: "app", Op: audit.OpTokenize, Count: 1, Decision: audit.DecisionAllow}); err != nil {
			return err
		}
	}
	return nil
}

// TestChainTakenOverRefusesWrites: once another process holds the chain,
// every write fails and adds nothing.
func TestChainTakenOverRefusesWrites(t *testing.T) {
	f := newFixture(t)
	s, err := f.open(t, "a", false)
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	if err := record(s, 1); err != nil {
		t.Fatalf("Record() error = %v", err)
	}
	f.exec(t, `UPDATE pv_audit_chains SET holder = 'another-process' WHERE instance = 'a'`)
	before := f.exec(t, `SELECT 1 FROM pv_audit_records`)
	if err := record(s, 1); !errors.Is(err, pgsink.ErrChainHeld) {
		t.Errorf("Record() after another process took the chain = %v, want ErrChainHeld", err)
	}
	if after := f.exec(t, `SELECT 1 FROM pv_audit_records`); after != before {
		t.Errorf("records after the refused write = %d, want %d", after, before)
	}
}

// TestSecondLiveSinkRefused: a second process cannot open a chain whose
// holder keeps renewing its lease; once the holder closes, it can.
func TestSecondLiveSinkRefused(t *testing.T) {
	f := newFixture(t)
	a, err := f.open(t, "same", false)
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	if _, err := f.open(t, "same", false); !errors.Is(err, pgsink.ErrChainHeld) {
		t.Fatalf("second Open() while the first is live = %v, want ErrChainHeld", err)
	}
	if err := record(a, 3); err != nil {
		t.Fatalf("Record() on the holder error = %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	b, err := f.open(t, "same", false)
	if err != nil {
		t.Fatalf("Open() after the holder closed error = %v", err)
	}
	if err := record(b, 1); err != nil {
		t.Fatalf("Record() continuing the chain error = %v", err)
	}
	res, err := pgsink.Reader{Pool: f.st.Pool()}.Verify(context.Background(), f.signer)
	if err != nil || len(res) != 1 || res[0].Err != nil || res[0].Summary.Events != 4 {
		t.Errorf("Verify() = %+v, %v; want one chain of 4 events verified", res, err)
	}
}

// TestStartRefusesCutChain: a chain whose last records were deleted is
// refused at start; accepting the reset records it and the chain verifies.
func TestStartRefusesCutChain(t *testing.T) {
	f := newFixture(t)
	s, err := f.open(t, "cut", false)
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	if err := record(s, 5); err != nil {
		t.Fatalf("Record() error = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	if n := f.exec(t, `DELETE FROM pv_audit_records WHERE instance = 'cut' AND pos >= (SELECT max(pos) - 1 FROM pv_audit_records WHERE instance = 'cut')`); n != 2 {
		t.Fatalf("deleted %d records, want 2", n)
	}
	var he *audit.HeadError
	if _, err := f.open(t, "cut", false); !errors.As(err, &he) || he.Kind != audit.KindBehind {
		t.Fatalf("Open() of a cut chain = %v, want a HeadError of kind %s", err, audit.KindBehind)
	}
	if _, err := f.open(t, "cut", true); err != nil {
		t.Fatalf("Open(AcceptReset) error = %v", err)
	}
	var resets int64
	if err := f.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pv_audit_records WHERE instance = 'cut' AND line LIKE '%"op":"audit.reset"%'`).Scan(&resets); err != nil || resets != 1 {
		t.Errorf("audit.reset events = %d, %v; want 1", resets, err)
	}
	res, err := pgsink.Reader{Pool: f.st.Pool()}.Verify(context.Background(), f.signer)
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Errorf("Verify() after the accepted reset = %+v, %v; want the chain verified", res, err)
	}
}
