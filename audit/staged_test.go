package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
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

// One caller at a time finds the writer goroutine idle and commits on its
// own goroutine (no hand-off): its stage then runs outside the writer's
// loop. The log stays what the writer alone makes of it: every stage
// committed once, in order, a checkpoint right after every third event
// (the writer writes it before it takes the next event), and the chain
// verifies.
func TestAppendStagedDirect(t *testing.T) {
	dir := t.TempDir()
	j := &memTxJournal{memJournal: newMemJournal()}
	l := openLog(t, dir, audit.Options{Journal: j, FileSyncInterval: never, CheckpointEvery: 3})
	const calls = 9
	direct := 0
	for i := range calls {
		name := fmt.Sprint("call-", i)
		err := l.AppendStaged(context.Background(), func(tx any) ([]audit.Event, error) {
			if !onWriterGoroutine() {
				direct++
			}
			return staged(name, nil)(tx)
		})
		if err != nil {
			t.Fatalf("AppendStaged(%s) error = %v", name, err)
		}
	}
	if direct == 0 {
		t.Errorf("stages run on the caller's goroutine = 0 of %d sequential calls, want some", calls)
	}
	want := make([]string, calls)
	for i := range want {
		want[i] = fmt.Sprint("call-", i)
	}
	if got := j.committed; !slices.Equal(got, want) {
		t.Errorf("committed writes = %q, want %q", got, want)
	}
	closeLog(t, l)
	var kinds []string
	for _, line := range readLines(t, dir) {
		if field(line, "type") == "checkpoint" {
			kinds = append(kinds, "c")
		} else {
			kinds = append(kinds, "e")
		}
	}
	if got, want := strings.Join(kinds, " "), "e e e c e e e c e e e c"; got != want {
		t.Errorf("log lines = %s, want %s", got, want)
	}
	if sum, err := verifyDir(t, dir); err != nil || sum.Events != calls || sum.Checkpoints != 3 {
		t.Errorf("Verify = %+v, %v; want %d events, 3 checkpoints, nil", sum, err, calls)
	}
}

// onWriterGoroutine reports whether the caller runs on the Log's writer
// goroutine.
func onWriterGoroutine() bool {
	buf := make([]byte, 64<<10)
	return bytes.Contains(buf[:runtime.Stack(buf, false)], []byte("audit.(*Log).run("))
}
