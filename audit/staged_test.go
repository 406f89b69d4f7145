package audit_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
)

// memTxJournal is a memJournal whose PutTx hands fill a transaction
// (a *memTx) and keeps its lines, and its writes, only if fill succeeds.
type memTxJournal struct {
	*memJournal
	committed []string // writes of committed transactions
}

var _ audit.TxJournal = (*memTxJournal)(nil)

type memTx struct{ writes []string }

func (j *memTxJournal) PutTx(fill func(tx any) (uint64, [][]byte, error)) (func() error, error) {
	tx := &memTx{}
	first, lines, err := fill(tx)
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.puts++
	for i, l := range lines {
		j.lines[first+uint64(i)] = bytes.Clone(l)
	}
	j.committed = append(j.committed, tx.writes...)
	return func() error { return nil }, nil
}

// staged returns a stage that writes name in the transaction and returns
// one event, or fails with err before writing anything else.
func staged(name string, err error) func(tx any) ([]audit.Event, error) {
	return func(tx any) ([]audit.Event, error) {
		if err != nil {
			return nil, err
		}
		tx.(*memTx).writes = append(tx.(*memTx).writes, name)
		return []audit.Event{testEvent(1)}, nil
	}
}

// Staged appends and plain ones waiting with them commit in the
// journal's transaction; a stage that fails takes nothing of its own into
// it and its caller hears its error, while the calls beside it commit
// (the batch is run again without it). The chain verifies.
func TestAppendStaged(t *testing.T) {
	dir := t.TempDir()
	j := &memTxJournal{memJournal: newMemJournal()}
	l := openLog(t, dir, audit.Options{Journal: j, FileSyncInterval: never})
	if !l.Stages() {
		t.Fatal("Stages() = false with a TxJournal, want true")
	}
	// The first stage holds the writer until the others wait behind it,
	// so they are likely one batch; what is asserted holds either way.
	release := make(chan struct{})
	started := make(chan struct{})
	errBad := errors.New("stage broke")
	var wg sync.WaitGroup
	wg.Go(func() {
		err := l.AppendStaged(context.Background(), func(tx any) ([]audit.Event, error) {
			close(started)
			<-release
			return staged("first", nil)(tx)
		})
		if err != nil {
			t.Errorf("AppendStaged(first) error = %v", err)
		}
	})
	<-started
	errs := make([]error, 3)
	wg.Go(func() { errs[0] = l.AppendStaged(context.Background(), staged("good", nil)) })
	wg.Go(func() { errs[1] = l.AppendStaged(context.Background(), staged("bad", errBad)) })
	wg.Go(func() { _, errs[2] = l.Append(context.Background(), testEvent(2)) })
	time.Sleep(20 * time.Millisecond) // a likelier shared batch only, see above
	close(release)
	wg.Wait()
	if errs[0] != nil || !errors.Is(errs[1], errBad) || errs[2] != nil {
		t.Fatalf("AppendStaged(good), AppendStaged(bad), Append = %v, %v, %v; want nil, %v, nil", errs[0], errs[1], errs[2], errBad)
	}
	if got := j.committed; len(got) != 2 || got[0] != "first" || got[1] != "good" {
		t.Errorf("committed writes = %q, want [first good] (none of the failed stage)", got)
	}
	if got := len(j.seqs()); got != 3 {
		t.Errorf("journal lines = %d, want 3 (first, good and the plain event)", got)
	}
	closeLog(t, l)
	if sum, err := verifyDir(t, dir); err != nil || sum.Events != 3 {
		t.Errorf("Verify = %+v, %v; want 3 events, nil", sum, err)
	}
}

// Without a journal that takes transactions, AppendStaged refuses and
// the caller takes the usual way.
func TestAppendStagedNeedsTxJournal(t *testing.T) {
	l := openLog(t, t.TempDir(), audit.Options{Journal: newMemJournal(), FileSyncInterval: never})
	if l.Stages() {
		t.Error("Stages() = true with a plain Journal, want false")
	}
	if err := l.AppendStaged(context.Background(), staged("x", nil)); !errors.Is(err, audit.ErrNoStaging) {
		t.Errorf("AppendStaged() error = %v, want ErrNoStaging", err)
	}
	closeLog(t, l)
}
