package badger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/internal/cputime"
	"github.com/privacyvault/privacyvault/store"
)

// stageInsert returns a stage that inserts recs through the journal's
// transaction and returns ev, reporting the outcomes in *out.
func stageInsert(recs []store.Record, ev audit.Event, out *[]store.Outcome) func(tx any) ([]audit.Event, error) {
	return func(tx any) ([]audit.Event, error) {
		o, err := tx.(*JournalTx).InsertTx(recs)
		if err != nil {
			return nil, err
		}
		*out = o
		return []audit.Event{ev}, nil
	}
}

// A staged call — its records and its event in one transaction — costs
// exactly one store sync, its own: no sync of the committer's, no file
// fsync. Counted by the store's sync counter, not timed.
func TestAppendStagedOneSyncPerCall(t *testing.T) {
	s, l := openJournaled(t, t.TempDir())
	if !l.Stages() {
		t.Fatal("Stages() = false with the Badger journal, want true")
	}
	const calls = 20
	recs := make([]store.Record, calls)
	for i := range calls {
		before := s.dur.walSyncs.Load()
		recs[i] = store.Record{Class: "c", ID: randomID(t), Ciphertext: []byte("sealed"), CreatedAt: time.Now()}
		var out []store.Outcome
		if err := l.AppendStaged(context.Background(), stageInsert(recs[i:i+1], tokenizeEvent(i), &out)); err != nil {
			t.Fatalf("AppendStaged(%d) error = %v", i, err)
		}
		if got := s.dur.walSyncs.Load() - before; got != 1 {
			t.Errorf("store syncs for staged call %d = %d, want 1", i, got)
		}
		if len(out) != 1 || out[0].Status != store.Inserted {
			t.Fatalf("InsertTx(%d) outcomes = %v, want one Inserted", i, out)
		}
	}
	for i, r := range recs {
		if _, err := s.Get(context.Background(), r.Class, r.ID); err != nil {
			t.Errorf("Get(record %d) error = %v, want it stored", i, err)
		}
	}
	if n := journalLines(t, s.Journal()); n != calls {
		t.Errorf("journal lines after %d staged calls = %d, want %d", calls, n, calls)
	}
}

// Concurrent staged calls of one deterministic value agree on one token:
// each transaction sees the ones committed before it, under the write
// lock. Mixed with plain appends, the log still verifies and holds every
// event.
func TestAppendStagedDeterministicUnique(t *testing.T) {
	dir := t.TempDir()
	_, l := openJournaled(t, dir)
	const callers = 8
	ids := make([][]byte, callers)
	inserted := make([]bool, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			rec := store.Record{Class: "c", ID: randomID(t), Index: []byte("same-value-index"), Ciphertext: []byte("sealed"), CreatedAt: time.Now()}
			var out []store.Outcome
			if err := l.AppendStaged(context.Background(), stageInsert([]store.Record{rec}, tokenizeEvent(i), &out)); err != nil {
				t.Errorf("AppendStaged(%d) error = %v", i, err)
				return
			}
			ids[i], inserted[i] = out[0].ID, out[0].Status == store.Inserted
		})
		wg.Go(func() {
			if _, err := l.Append(context.Background(), tokenizeEvent(100+i)); err != nil {
				t.Errorf("Append(%d) error = %v", i, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	n := 0
	for i := range callers {
		if inserted[i] {
			n++
		}
		if !bytes.Equal(ids[i], ids[0]) {
			t.Errorf("call %d got id %x, call 0 got %x: one value, two tokens", i, ids[i], ids[0])
		}
	}
	if n != 1 {
		t.Errorf("records inserted for one deterministic value = %d, want 1", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "audit", audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := audit.Verify(f, audit.NewEd25519Signer(testSigningKey()))
	if err != nil {
		t.Fatalf("Verify() error = %v", err)
	}
	if sum.Events != 2*callers {
		t.Errorf("Verify() events = %d, want %d", sum.Events, 2*callers)
	}
}

// A stage that fails leaves nothing of its call — neither its records
// nor an event — and its caller gets the stage's error; calls after it
// are not affected.
func TestAppendStagedStageFails(t *testing.T) {
	s, l := openJournaled(t, t.TempDir())
	bad := store.Record{Class: "c", ID: randomID(t), Ciphertext: []byte("sealed"), CreatedAt: time.Now()}
	errStage := errors.New("stage broke")
	err := l.AppendStaged(context.Background(), func(tx any) ([]audit.Event, error) {
		if _, err := tx.(*JournalTx).InsertTx([]store.Record{bad}); err != nil {
			return nil, err
		}
		return nil, errStage
	})
	if !errors.Is(err, errStage) {
		t.Fatalf("AppendStaged(failing stage) error = %v, want %v", err, errStage)
	}
	if _, err := s.Get(context.Background(), bad.Class, bad.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(record of the failed stage) error = %v, want ErrNotFound", err)
	}
	good := store.Record{Class: "c", ID: randomID(t), Ciphertext: []byte("sealed"), CreatedAt: time.Now()}
	var out []store.Outcome
	if err := l.AppendStaged(context.Background(), stageInsert([]store.Record{good}, tokenizeEvent(1), &out)); err != nil {
		t.Fatalf("AppendStaged(after a failed stage) error = %v", err)
	}
	if n := journalLines(t, s.Journal()); n != 1 {
		t.Errorf("journal lines = %d, want 1 (none for the failed stage)", n)
	}
	if _, err := s.Get(context.Background(), good.Class, good.ID); err != nil {
		t.Errorf("Get(record of the good stage) error = %v", err)
	}
}

// BenchmarkAppendStaged is a unary tokenize call's commit: one record and
// its event in one transaction, then its sync.
func BenchmarkAppendStaged(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.SyncOnDemand()
	l, err := audit.Open(dir+"/audit", audit.Options{Signer: audit.NewEd25519Signer(testSigningKey()), Journal: s.Journal(), FileSyncInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ev := audit.Event{Caller: "svc", Op: audit.OpTokenize, Class: "c", Count: 1, Decision: audit.DecisionAllow, Tokens: []string{strings.Repeat("A", 18)}}
	b.ReportAllocs()
	cpu0 := cputime.Process()
	defer func() { b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op") }()
	for range b.N {
		rec := store.Record{Class: "c", ID: randomID(b), Ciphertext: []byte("sealed-value-of-some-bytes"), CreatedAt: time.Now()}
		var out []store.Outcome
		if err := l.AppendStaged(context.Background(), stageInsert([]store.Record{rec}, ev, &out)); err != nil {
			b.Fatal(err)
		}
	}
}

// testSigningKey is the checkpoint key of openJournaled.
func testSigningKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
}

// BenchmarkInsertThenAppend is the same call the way a larger one goes:
// the committer decides and commits the record, the audit writer puts the
// event into the journal, whose sync covers both.
func BenchmarkInsertThenAppend(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	kick := s.SyncOnDemand()
	l, err := audit.Open(dir+"/audit", audit.Options{Signer: audit.NewEd25519Signer(testSigningKey()), Journal: s.Journal(), FileSyncInterval: time.Hour, BeforeSync: kick})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ev := audit.Event{Caller: "svc", Op: audit.OpTokenize, Class: "c", Count: 1, Decision: audit.DecisionAllow, Tokens: []string{strings.Repeat("A", 18)}}
	b.ReportAllocs()
	cpu0 := cputime.Process()
	defer func() { b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op") }()
	for range b.N {
		rec := store.Record{Class: "c", ID: randomID(b), Ciphertext: []byte("sealed-value-of-some-bytes"), CreatedAt: time.Now()}
		_, wait, err := s.InsertStaged(context.Background(), []store.Record{rec})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := l.Append(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
		if err := wait(); err != nil {
			b.Fatal(err)
		}
	}
}
