package badger

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/store"
)

// openJournaled opens a lazy store in dir and an audit log in dir/audit
// with the store's journal, the file synced only at Close.
func openJournaled(t *testing.T, dir string) (*Store, *audit.Log) {
	t.Helper()
	s := openLazy(t, dir)
	l, err := audit.Open(dir+"/audit", audit.Options{
		Signer:           audit.NewEd25519Signer(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))),
		Journal:          s.Journal(),
		FileSyncInterval: time.Hour,
	})
	if err != nil {
		s.Close()
		t.Fatalf("audit.Open() error = %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("audit Close() error = %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("store Close() error = %v", err)
		}
	})
	return s, l
}

func tokenizeEvent(i int) audit.Event {
	return audit.Event{Caller: fmt.Sprintf("svc-%d", i), Op: audit.OpTokenize, Class: "c", Count: 1, Decision: audit.DecisionAllow}
}

// journalLines returns how many lines the journal holds.
func journalLines(t *testing.T, j *Journal) int {
	t.Helper()
	n := 0
	if err := j.Lines(0, func(uint64, []byte) error { n++; return nil }); err != nil {
		t.Fatalf("Lines(0) error = %v", err)
	}
	return n
}

// While a write other than the committer holds the store's write lock (as
// update does through its own sync), the audit writer neither waits for
// it in Shares nor in Put: with an insert waiting for a sync, an event is
// appended — to the file, fsync'd — and the append returns with the lock
// still held.
func TestJournalAppendWhileWriteLockHeld(t *testing.T) {
	s, l := openJournaled(t, t.TempDir())
	rec := store.Record{Class: "c", ID: randomID(t), Ciphertext: []byte("sealed"), CreatedAt: time.Now()}
	_, wait, err := s.InsertStaged(context.Background(), []store.Record{rec})
	if err != nil {
		t.Fatal(err)
	}
	j := s.Journal()
	s.wmu.Lock()
	if !j.Shares() {
		t.Errorf("Shares() with an insert waiting for a sync = false, want true")
	}
	done := make(chan error, 1)
	go func() {
		_, err := l.Append(context.Background(), tokenizeEvent(0))
		done <- err
	}()
	var appendErr error
	select {
	case appendErr = <-done:
	case <-time.After(time.Minute): // a bound for a hang, not a timing check
		s.wmu.Unlock()
		t.Fatalf("Append did not return while the store's write lock was held")
	}
	s.wmu.Unlock()
	if appendErr != nil {
		t.Fatalf("Append() error = %v", appendErr)
	}
	if n := journalLines(t, j); n != 0 {
		t.Errorf("journal holds %d lines after an append with the write lock held, want 0 (the event went to the file)", n)
	}
	if err := wait(); err != nil {
		t.Fatalf("insert wait = %v", err)
	}
}

// A unary tokenize call's sequence — its insert decided, its event
// appended, then its wait for the records — costs one store sync and no
// file sync: the event goes into the journal, whose sync covers the
// records. Counted by the store's own sync counter, not timed.
func TestJournalOneSyncPerUnaryCall(t *testing.T) {
	s, l := openJournaled(t, t.TempDir())
	// The filter's fill at open holds the write lock now and then; a put
	// that finds it held goes to the audit file (Journal.Put).
	<-s.fillDone
	const calls = 20
	before := s.dur.walSyncs.Load()
	for i := range calls {
		rec := store.Record{Class: "c", ID: randomID(t), Ciphertext: []byte("sealed"), CreatedAt: time.Now()}
		_, wait, err := s.InsertStaged(context.Background(), []store.Record{rec})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(context.Background(), tokenizeEvent(i)); err != nil {
			t.Fatalf("Append(%d) error = %v", i, err)
		}
		if err := wait(); err != nil {
			t.Fatalf("insert wait(%d) = %v", i, err)
		}
	}
	if got := s.dur.walSyncs.Load() - before; got != calls {
		t.Errorf("store syncs for %d calls = %d, want %d", calls, got, calls)
	}
	if n := journalLines(t, s.Journal()); n != calls {
		t.Errorf("journal lines after %d calls = %d, want %d (every event through the journal, no file fsync)", calls, n, calls)
	}
}

// BenchmarkJournalPut is a unary call's put: one line, then its wait.
func BenchmarkJournalPut(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.SyncOnDemand()
	j := s.Journal()
	line := []byte(strings.Repeat("x", 300))
	b.ReportAllocs()
	for i := range b.N {
		wait, err := j.Put(uint64(i+1), [][]byte{line})
		if err != nil || wait == nil {
			b.Fatalf("Put(%d) = %v, %v", i+1, wait != nil, err)
		}
		if err := wait(); err != nil {
			b.Fatal(err)
		}
	}
}
