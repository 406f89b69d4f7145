package audit_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
)

// TestAppendsCancelClose: many concurrent Appends, some with
// contexts already ended or ending while they wait, race with Close.
// Every Append returns; every one that succeeded is in the file with its
// seq and hash; the chain verifies; Appends after Close fail with
// ErrClosed.
func TestAppendsCancelClose(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{CheckpointEvery: 50})
	const callers, each = 16, 60
	var (
		mu sync.Mutex
		ok []audit.Event
	)
	var returned atomic.Int64
	half := make(chan struct{})
	var wg sync.WaitGroup
	for w := range callers {
		wg.Go(func() {
			for i := range each {
				ctx, cancel := context.WithCancel(context.Background())
				if (w+i)%7 == 0 {
					go cancel() // ends while the Append waits, or before
				}
				ev, err := l.Append(ctx, testEvent(w*each+i+1))
				cancel()
				if returned.Add(1) == callers*each/2 {
					close(half)
				}
				switch {
				case err == nil:
					mu.Lock()
					ok = append(ok, ev)
					mu.Unlock()
				case errors.Is(err, context.Canceled), errors.Is(err, audit.ErrClosed):
				default:
					t.Errorf("Append() error = %v", err)
				}
			}
		})
	}
	wg.Go(func() {
		<-half
		if err := l.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	wg.Wait()
	if _, err := l.Append(context.Background(), testEvent(1)); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("Append after Close error = %v, want ErrClosed", err)
	}
	lines := readLines(t, dir)
	hashes := map[string]bool{}
	for _, line := range lines {
		hashes[field(line, "hash")] = true
	}
	for _, ev := range ok {
		if !hashes[ev.Hash] {
			t.Fatalf("acknowledged event seq %d (hash %s) is not in the log", ev.Seq, ev.Hash)
		}
	}
	if _, err := verifyDir(t, dir); err != nil {
		t.Errorf("Verify() error = %v", err)
	}
	if !strings.Contains(lines[len(lines)-1], `"checkpoint"`) {
		t.Errorf("last line = %q, want Close's checkpoint", lines[len(lines)-1])
	}
}
