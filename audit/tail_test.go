package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
)

// lockedBuffer is written by Tail and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// seqs returns the seq of each line written so far.
func (b *lockedBuffer) seqs() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, line := range strings.SplitAfter(b.buf.String(), "\n") {
		if line != "" {
			var r struct{ Seq uint64 }
			json.Unmarshal([]byte(line), &r)
			out = append(out, strconv.FormatUint(r.Seq, 10))
		}
	}
	return strings.Join(out, " ")
}

// waitFor polls b until it holds want or a deadline passes.
func (b *lockedBuffer) waitFor(want string) string {
	deadline := time.Now().Add(5 * time.Second)
	for b.seqs() != want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return b.seqs()
}

func TestTail(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{CheckpointEvery: 3})
	defer closeLog(t, l)
	appendN(t, l, 1, 4) // lines: events 1-3, checkpoint 3, event 4

	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	done := make(chan error, 1)
	go func() { done <- audit.Tail(ctx, filepath.Join(dir, audit.FileName), 3, &out) }()

	if got, want := out.waitFor("3 3 4"), "3 3 4"; got != want {
		t.Errorf("Tail(from 3) wrote seqs %q, want %q (event 3, checkpoint 3, event 4)", got, want)
	}
	appendN(t, l, 5, 5)
	if got, want := out.waitFor("3 3 4 5"), "3 3 4 5"; got != want {
		t.Errorf("Tail after Append(5) wrote seqs %q, want %q", got, want)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Tail after cancel = %v, want context.Canceled", err)
	}
}
