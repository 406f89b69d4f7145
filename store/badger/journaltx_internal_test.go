package badger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
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
	checkOneRecord(t, ids, inserted)
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
	_, l := benchJournaled(b, false)
	ev := benchEvent()
	b.ReportAllocs()
	defer reportCPU(b)()
	for range b.N {
		rec := store.Record{Class: "c", ID: randomID(b), Ciphertext: []byte("sealed-value-of-some-bytes"), CreatedAt: time.Now()}
		var out []store.Outcome
		if err := l.AppendStaged(context.Background(), stageInsert([]store.Record{rec}, ev, &out)); err != nil {
			b.Fatal(err)
		}
	}
}

// benchJournaled opens a store syncing on demand and an audit log
// journaled in it, both closed when b ends; kick wires the store's kick
// as the log's BeforeSync, as the server does for the committer's path.
func benchJournaled(b *testing.B, kick bool) (*Store, *audit.Log) {
	b.Helper()
	dir := b.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	opts := audit.Options{Signer: audit.NewEd25519Signer(testSigningKey()), Journal: s.Journal(), FileSyncInterval: time.Hour}
	if k := s.SyncOnDemand(); kick {
		opts.BeforeSync = k
	}
	l, err := audit.Open(dir+"/audit", opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return s, l
}

// benchEvent is a unary tokenize call's event.
func benchEvent() audit.Event {
	return audit.Event{Caller: "svc", Op: audit.OpTokenize, Class: "c", Count: 1, Decision: audit.DecisionAllow, Tokens: []string{strings.Repeat("A", 18)}}
}

// testSigningKey is the checkpoint key of openJournaled.
func testSigningKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
}

// BenchmarkInsertThenAppend is the same call the way a larger one goes:
// the committer decides and commits the record, the audit writer puts the
// event into the journal, whose sync covers both.
func BenchmarkInsertThenAppend(b *testing.B) {
	s, l := benchJournaled(b, true)
	ev := benchEvent()
	b.ReportAllocs()
	defer reportCPU(b)()
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

// stagedBurst runs calls staged appends while a first stage holds the
// audit writer, so they are likely taken as one batch (what is asserted
// holds either way), and returns their errors.
func stagedBurst(t *testing.T, l *audit.Log, calls int, stage func(i int) func(tx any) ([]audit.Event, error)) []error {
	t.Helper()
	release, started := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		err := l.AppendStaged(context.Background(), func(any) ([]audit.Event, error) {
			close(started)
			<-release
			return []audit.Event{tokenizeEvent(-1)}, nil
		})
		if err != nil {
			t.Errorf("AppendStaged(first) error = %v", err)
		}
	})
	<-started
	errs := make([]error, calls)
	for i := range calls {
		wg.Go(func() { errs[i] = l.AppendStaged(context.Background(), stage(i)) })
	}
	time.Sleep(50 * time.Millisecond) // a likelier shared batch only, see above
	close(release)
	wg.Wait()
	return errs
}

// Staged calls whose records together exceed Badger's transaction limit
// (15% of the 4 MiB memtable), each far below it, all succeed: the audit
// writer commits them in several transactions rather than failing the
// call that did not fit. Every record and event is stored and the log
// stays usable.
func TestAppendStagedSplitsFullTransaction(t *testing.T) {
	dir := t.TempDir()
	s, l := openJournaled(t, dir)
	const calls, perCall = 24, 8
	recs := make([][]store.Record, calls)
	for i := range recs {
		for range perCall {
			recs[i] = append(recs[i], store.Record{Class: "c", ID: randomID(t), Ciphertext: bytes.Repeat([]byte{'s'}, 8000), CreatedAt: time.Now()})
		}
	}
	errs := stagedBurst(t, l, calls, func(i int) func(tx any) ([]audit.Event, error) {
		var out []store.Outcome
		return stageInsert(recs[i], tokenizeEvent(i), &out)
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("AppendStaged(call %d of 64 KB) error = %v, want nil", i, err)
		}
	}
	for i := range recs {
		for _, r := range recs[i] {
			if _, err := s.Get(context.Background(), r.Class, r.ID); err != nil && errs[i] == nil {
				t.Errorf("Get(record of call %d) error = %v, want it stored", i, err)
			}
		}
	}
	if _, err := l.Append(context.Background(), tokenizeEvent(calls)); err != nil {
		t.Fatalf("Append(after the burst) error = %v, want the log usable", err)
	}
	verifyEvents(t, l, dir, calls+2)
}

// Staged calls whose event lines together exceed the transaction limit
// are split as well, and the log stays usable.
func TestAppendStagedSplitsFullLines(t *testing.T) {
	dir := t.TempDir()
	_, l := openJournaled(t, dir)
	const calls = 24
	fps := make([]string, 1000) // ~35 KB of line per event
	for i := range fps {
		fps[i] = fmt.Sprintf("%032x", i)
	}
	errs := stagedBurst(t, l, calls, func(i int) func(tx any) ([]audit.Event, error) {
		return func(any) ([]audit.Event, error) {
			ev := tokenizeEvent(i)
			ev.Count, ev.Tokens = len(fps), fps
			return []audit.Event{ev}, nil
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("AppendStaged(call %d with a 35 KB event) error = %v, want nil", i, err)
		}
	}
	if _, err := l.Append(context.Background(), tokenizeEvent(calls)); err != nil {
		t.Fatalf("Append(after the burst) error = %v, want the log usable", err)
	}
	verifyEvents(t, l, dir, calls+2)
}

// A staged call too large for a transaction on its own fails with
// audit.ErrTxFull, having written nothing; the log stays usable.
func TestAppendStagedTooLargeAlone(t *testing.T) {
	s, l := openJournaled(t, t.TempDir())
	var recs []store.Record
	for range 20 {
		recs = append(recs, store.Record{Class: "c", ID: randomID(t), Ciphertext: bytes.Repeat([]byte{'s'}, 64<<10), CreatedAt: time.Now()})
	}
	var out []store.Outcome
	if err := l.AppendStaged(context.Background(), stageInsert(recs, tokenizeEvent(0), &out)); !errors.Is(err, audit.ErrTxFull) {
		t.Fatalf("AppendStaged(1.3 MB of records) error = %v, want ErrTxFull", err)
	}
	if _, err := s.Get(context.Background(), recs[0].Class, recs[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(record of the refused call) error = %v, want ErrNotFound", err)
	}
	if _, err := l.Append(context.Background(), tokenizeEvent(1)); err != nil {
		t.Fatalf("Append(after the refused call) error = %v, want the log usable", err)
	}
}

// verifyEvents closes l, whose directory is dir/audit, and checks its file
// verifies and holds events events.
func verifyEvents(t *testing.T, l *audit.Log, dir string, events int) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("audit Close() error = %v", err)
	}
	f, err := os.Open(filepath.Join(dir, "audit", audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := audit.Verify(f, audit.NewEd25519Signer(testSigningKey()))
	if err != nil || sum.Events != events {
		t.Errorf("Verify() = %d events, %v; want %d, nil (every call's event)", sum.Events, err, events)
	}
}

// putTx inserts recs through PutTx with one journal line as seq first
// and returns the outcomes and PutTx's wait.
func putTx(t *testing.T, s *Store, first uint64, recs []store.Record) ([]store.Outcome, func() error) {
	t.Helper()
	var out []store.Outcome
	wait, err := s.Journal().PutTx(func(tx any) (uint64, [][]byte, error) {
		o, err := tx.(*JournalTx).InsertTx(recs)
		out = o
		return first, [][]byte{[]byte("line")}, err
	})
	if err != nil {
		t.Fatalf("PutTx() error = %v", err)
	}
	return out, wait
}

// The key filter holds every key a staged transaction wrote, at once and
// after a reopen (its scan), so a later insert — staged or the
// committer's — finds the record's identifier and index taken.
func TestFilterHoldsStagedKeys(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir)
	rnd, det, subj := rec("rnd", nil, nil), rec("det", randomBytes(32), nil), rec("det", randomBytes(32), []byte("subject-1"))
	out, wait := putTx(t, s, 1, []store.Record{rnd, det, subj})
	if err := wait(); err != nil {
		t.Fatalf("PutTx wait() error = %v", err)
	}
	for i, o := range out {
		if o.Status != store.Inserted {
			t.Fatalf("InsertTx()[%d] = %v, want inserted", i, o.Status)
		}
	}
	keys := [][]byte{recordKey(rnd.Class, rnd.ID), recordKey(det.Class, det.ID), indexKey(det.Class, det.Index),
		recordKey(subj.Class, subj.ID), indexKey(subj.Class, subj.Index)}
	checkHeld(t, s, keys, "staged")
	again := func(when string) {
		t.Helper()
		sameID, sameIndex := rec("rnd", nil, nil), rec("det", bytes.Clone(det.Index), nil)
		sameID.ID = bytes.Clone(rnd.ID)
		staged, wait := putTx(t, s, 2, []store.Record{sameID, sameIndex})
		if err := wait(); err != nil {
			t.Fatalf("%s: PutTx wait() error = %v", when, err)
		}
		committed, err := s.Insert(context.Background(), []store.Record{sameID, sameIndex})
		if err != nil {
			t.Fatalf("%s: Insert() error = %v", when, err)
		}
		for _, got := range [][]store.Outcome{staged, committed} {
			if got[0].Status != store.Collision || got[1].Status != store.Existing || !bytes.Equal(got[1].ID, det.ID) {
				t.Errorf("%s: outcomes of a taken id and index = %v, want collision and existing %x", when, got, det.ID)
			}
		}
	}
	again("staged")
	s = reopen(t, s, dir)
	defer s.Close()
	checkHeld(t, s, keys, "reopened")
	again("reopened")
}

// A staged transaction's wait that runs after the store closed does not
// report the writes durable: the store's files are no longer synced.
func TestPutTxWaitAfterClose(t *testing.T) {
	s := openDir(t, t.TempDir())
	_, wait := putTx(t, s, 1, []store.Record{rec("rnd", nil, nil)})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wait(); !errors.Is(err, store.ErrClosed) {
		t.Errorf("wait() after Close = %v, want ErrClosed", err)
	}
}

// A staged transaction's sync that comes after a committed insert group
// whose record went to the value log, not yet synced, syncs the value log
// too: its sync marks every write before it durable, so the syncer then
// syncs that group no more.
func TestPutTxSyncsValueLogOfEarlierGroup(t *testing.T) {
	s := openLazy(t, t.TempDir())
	defer s.Close()
	big := rec("rnd", nil, nil)
	big.Ciphertext = randomBytes(int(s.opts.ValueThreshold))
	if !s.mayUseValueLog(big) {
		t.Fatal("mayUseValueLog(record of ValueThreshold bytes) = false, want true")
	}
	_, insertWait, err := s.InsertStaged(context.Background(), []store.Record{big})
	if err != nil {
		t.Fatal(err)
	}
	before := s.dur.vlogSyncs.Load()
	_, wait := putTx(t, s, 1, []store.Record{rec("rnd", nil, nil)})
	if err := wait(); err != nil {
		t.Fatalf("PutTx wait() error = %v", err)
	}
	if err := insertWait(); err != nil {
		t.Fatalf("InsertStaged wait() error = %v", err)
	}
	if got := s.dur.vlogSyncs.Load() - before; got == 0 {
		t.Errorf("value-log syncs after the staged sync and the large insert's wait = %d, want at least 1", got)
	}
}

// Staged calls and the committer's inserts of one deterministic value,
// concurrent, agree on one identifier, and so do both after a reopen:
// both decide under the write lock and see what the other committed.
func TestStagedAndCommitterDeterministicUnique(t *testing.T) {
	dir := t.TempDir()
	s, l := openJournaled(t, dir)
	index := randomBytes(32)
	const callers = 8
	ids := make([][]byte, 2*callers)
	inserted := make([]bool, 2*callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			var out []store.Outcome
			if err := l.AppendStaged(context.Background(), stageInsert([]store.Record{rec("det", index, nil)}, tokenizeEvent(i), &out)); err != nil {
				t.Errorf("AppendStaged(%d) error = %v", i, err)
				return
			}
			ids[i], inserted[i] = out[0].ID, out[0].Status == store.Inserted
		})
		wg.Go(func() {
			out, err := s.Insert(context.Background(), []store.Record{rec("det", index, nil)})
			if err != nil {
				t.Errorf("Insert(%d) error = %v", i, err)
				return
			}
			ids[callers+i], inserted[callers+i] = out[0].ID, out[0].Status == store.Inserted
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	checkOneRecord(t, ids, inserted)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, dir)
	defer s.Close()
	staged, wait := putTx(t, s, 1<<40, []store.Record{rec("det", index, nil)})
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	out, err := s.Insert(context.Background(), []store.Record{rec("det", index, nil)})
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range [][]store.Outcome{staged, out} {
		if got[0].Status != store.Existing || !bytes.Equal(got[0].ID, ids[0]) {
			t.Errorf("after a reopen: outcome = %v %x, want existing %x", got[0].Status, got[0].ID, ids[0])
		}
	}
}

// The syncer's sync of an insert group committed after a staged
// transaction that may have written the value log, before that
// transaction's own sync, syncs the value log too: it marks the staged
// transaction durable.
func TestSyncerSyncsValueLogOfEarlierPutTx(t *testing.T) {
	s := openLazy(t, t.TempDir())
	defer s.Close()
	big := rec("rnd", nil, nil)
	big.Ciphertext = randomBytes(int(s.opts.ValueThreshold))
	before := s.dur.vlogSyncs.Load()
	_, wait := putTx(t, s, 1, []store.Record{big})
	if _, err := s.Insert(context.Background(), []store.Record{rec("rnd", nil, nil)}); err != nil {
		t.Fatal(err)
	}
	if got := s.dur.vlogSyncs.Load() - before; got == 0 {
		t.Errorf("value-log syncs by the later insert's sync = %d, want at least 1", got)
	}
	if err := wait(); err != nil {
		t.Fatalf("PutTx wait() error = %v", err)
	}
}

// Closing the log while a stage runs on its writer: the stage's call
// commits and hears success, Close returns once it has, and a later
// staged append fails with ErrClosed having run nothing.
func TestCloseWhileStaged(t *testing.T) {
	dir := t.TempDir()
	s, l := openJournaled(t, dir)
	r := rec("rnd", nil, nil)
	release, started, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		var out []store.Outcome
		done <- l.AppendStaged(context.Background(), func(tx any) ([]audit.Event, error) {
			close(started)
			<-release
			return stageInsert([]store.Record{r}, tokenizeEvent(0), &out)(tx)
		})
	}()
	<-started
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("AppendStaged(stage running at Close) error = %v, want nil", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	if _, err := s.Get(context.Background(), r.Class, r.ID); err != nil {
		t.Errorf("Get(record of the staged call) error = %v", err)
	}
	ran := false
	err := l.AppendStaged(context.Background(), func(any) ([]audit.Event, error) { ran = true; return nil, nil })
	if !errors.Is(err, audit.ErrClosed) || ran {
		t.Errorf("AppendStaged(after Close) = %v, stage ran %t; want ErrClosed, false", err, ran)
	}
	verifyEvents(t, l, dir, 1)
}

// checkOneRecord checks that calls tokenizing one deterministic value got
// one id and that exactly one of them inserted its record.
func checkOneRecord(t *testing.T, ids [][]byte, inserted []bool) {
	t.Helper()
	n := 0
	for i := range ids {
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
}
