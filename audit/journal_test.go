package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
)

// memJournal is an in-memory audit.Journal: lines by seq.
type memJournal struct {
	mu     sync.Mutex
	lines  map[uint64][]byte
	puts   int
	shares bool  // what Shares answers
	putErr error // what Put fails with, if set
	busy   bool  // Put takes nothing and returns no wait
}

var _ audit.Journal = (*memJournal)(nil)

func newMemJournal() *memJournal { return &memJournal{lines: map[uint64][]byte{}, shares: true} }

func (j *memJournal) Put(first uint64, lines [][]byte) (func() error, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.putErr != nil {
		return nil, j.putErr
	}
	if j.busy {
		return nil, nil
	}
	j.puts++
	for i, l := range lines {
		j.lines[first+uint64(i)] = bytes.Clone(l)
	}
	return func() error { return nil }, nil
}

func (j *memJournal) Lines(after uint64, fn func(uint64, []byte) error) error {
	j.mu.Lock()
	seqs := slices.Sorted(maps.Keys(j.lines))
	lines := maps.Clone(j.lines)
	j.mu.Unlock()
	for _, q := range seqs {
		if q > after {
			if err := fn(q, lines[q]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (j *memJournal) Shares() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.shares
}

func (j *memJournal) Trim(upto uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for q := range j.lines {
		if q <= upto {
			delete(j.lines, q)
		}
	}
	return nil
}

// seqs returns the seqs the journal holds, in order.
func (j *memJournal) seqs() []uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Sorted(maps.Keys(j.lines))
}

// snapshot is a copy of the journal, as a crash would leave it.
func (j *memJournal) snapshot() *memJournal {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := newMemJournal()
	for q, l := range j.lines {
		c.lines[q] = bytes.Clone(l)
	}
	return c
}

// never is a file sync interval no test outlasts.
const never = time.Hour

func readFile(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// crashCopy makes a new directory holding file as audit.log: what a crash
// left on disk.
func crashCopy(t *testing.T, file []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, audit.FileName), file, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Events of small batches go to the journal and are written to the file at
// once; the journal keeps them until the file is synced (here at Close),
// then is trimmed.
func TestJournalAppendWritesFileAndTrimsAfterSync(t *testing.T) {
	dir := t.TempDir()
	j := newMemJournal()
	l := openLog(t, dir, audit.Options{Journal: j, FileSyncInterval: never})
	appendN(t, l, 1, 5)
	if got := j.seqs(); !slices.Equal(got, []uint64{1, 2, 3, 4, 5}) {
		t.Errorf("journal seqs after 5 appends = %v, want 1..5", got)
	}
	if got := len(readLines(t, dir)); got != 5 {
		t.Errorf("audit.log holds %d lines before any sync, want the 5 events written", got)
	}
	closeLog(t, l)
	if got := j.seqs(); len(got) != 0 {
		t.Errorf("journal seqs after Close = %v, want none (trimmed once the file is synced)", got)
	}
	if sum, err := verifyDir(t, dir); err != nil || sum.Events != 5 {
		t.Errorf("Verify = %+v, %v; want 5 events, nil", sum, err)
	}
}

// The file is synced, and the journal trimmed, once FileSyncInterval has
// passed (polled, not timed: any delay passes).
func TestJournalTrimmedAfterInterval(t *testing.T) {
	j := newMemJournal()
	l := openLog(t, t.TempDir(), audit.Options{Journal: j, FileSyncInterval: time.Millisecond})
	defer closeLog(t, l)
	appendN(t, l, 1, 3)
	for deadline := time.Now().Add(30 * time.Second); len(j.seqs()) > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("journal seqs = %v 30s after the appends, want none", j.seqs())
		}
	}
}

// Recovery: the file lost lines a power cut took (or a torn part of one),
// the journal has them: Open appends them in order, and the chain verifies
// and continues.
func TestJournalRecoveryAppendsMissingLines(t *testing.T) {
	tests := []struct {
		name string
		keep func(file []byte, durable int) []byte // what the crash left of the file
	}{
		{"lines lost", func(file []byte, durable int) []byte { return file[:durable] }},
		{"torn line", func(file []byte, durable int) []byte { return file[:durable+20] }},
		{"file complete", func(file []byte, durable int) []byte { return file }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			j := newMemJournal()
			l := openLog(t, dir, audit.Options{Journal: j, FileSyncInterval: never})
			appendN(t, l, 1, 3)
			closeLog(t, l) // synced: a checkpoint after seq 3
			durable := len(readFile(t, dir))
			l = openLog(t, dir, audit.Options{Journal: j, FileSyncInterval: never})
			appendN(t, l, 4, 8)
			file, journal := readFile(t, dir), j.snapshot()
			closeLog(t, l)

			crashed := crashCopy(t, tt.keep(file, durable))
			l = openLog(t, crashed, audit.Options{Journal: journal, FileSyncInterval: never})
			// A torn line is also recorded (audit.recover) before event 9.
			if _, err := l.Append(context.Background(), testEvent(9)); err != nil {
				t.Fatal(err)
			}
			closeLog(t, l)
			sum, err := verifyDir(t, crashed)
			if err != nil || sum.Events < 9 {
				t.Errorf("Verify after recovery = %+v, %v; want at least 9 events, nil", sum, err)
			}
			if got := journal.seqs(); len(got) != 0 {
				t.Errorf("journal after recovery and Close = %v, want none", got)
			}
			lines := strings.Join(readLines(t, crashed), "")
			for i := 1; i <= 9; i++ {
				if n := strings.Count(lines, fmt.Sprintf(`"caller":"svc-%d"`, i)); n != 1 {
					t.Errorf("recovered log holds event %d %d times, want once", i, n)
				}
			}
		})
	}
}

// Lines the file holds already are skipped; the file is not changed.
func TestJournalDuplicatesSkipped(t *testing.T) {
	dir := t.TempDir()
	j := newMemJournal()
	l := openLog(t, dir, audit.Options{Journal: j, FileSyncInterval: never})
	appendN(t, l, 1, 4)
	file, journal := readFile(t, dir), j.snapshot()
	closeLog(t, l)

	crashed := crashCopy(t, file)
	l = openLog(t, crashed, audit.Options{Journal: journal, FileSyncInterval: never})
	closeLog(t, l)
	got := readLines(t, crashed)
	if len(got) != 5 || string(readFile(t, crashed)[:len(file)]) != string(file) {
		t.Errorf("log after recovering a complete file = %d lines, want the 4 events unchanged and a checkpoint", len(got))
	}
	if sum, err := verifyDir(t, crashed); err != nil || sum.Events != 4 {
		t.Errorf("Verify = %+v, %v; want 4 events, nil", sum, err)
	}
}

// A journal line that does not continue the file is never dropped
// silently: Open refuses, and with AcceptReset drops the journal and
// records why.
func TestJournalRefusesLineThatDoesNotChain(t *testing.T) {
	tests := []struct {
		name   string
		damage func(j *memJournal)
	}{
		{"gap", func(j *memJournal) { delete(j.lines, 5) }},
		{"edited line", func(j *memJournal) {
			j.lines[5] = bytes.Replace(j.lines[5], []byte(`"svc-5"`), []byte(`"svc-X"`), 1)
		}},
		{"rehashed edit", func(j *memJournal) {
			line := setField(string(j.lines[5])+"\n", "caller", "svc-X")
			j.lines[5] = []byte(strings.TrimSuffix(rehash(line), "\n"))
		}},
		{"other chain", func(j *memJournal) {
			j.lines[4] = bytes.Replace(j.lines[4], []byte(`"prev":"`), []byte(`"prev":"0`), 1)
		}},
		{"duplicate differs", func(j *memJournal) {
			line := setField(string(j.lines[3])+"\n", "caller", "svc-X")
			j.lines[3] = []byte(strings.TrimSuffix(rehash(line), "\n"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			j := newMemJournal()
			l := openLog(t, dir, audit.Options{Journal: j, FileSyncInterval: never})
			appendN(t, l, 1, 3)
			file := readFile(t, dir) // ends with event 3: no checkpoint yet
			appendN(t, l, 4, 6)
			journal := j.snapshot()
			closeLog(t, l)
			tt.damage(journal)

			crashed := crashCopy(t, file)
			_, err := audit.Open(crashed, audit.Options{Signer: testSigner(1), Journal: journal})
			if !errors.Is(err, audit.ErrJournalMismatch) {
				t.Fatalf("Open with a damaged journal = %v, want ErrJournalMismatch", err)
			}
			if got := readFile(t, crashed); !bytes.Equal(got, file) {
				t.Errorf("Open that refused changed the file")
			}
			l = openLog(t, crashed, audit.Options{Journal: journal, AcceptReset: true})
			closeLog(t, l)
			if got := journal.seqs(); len(got) != 0 {
				t.Errorf("journal after an accepted reset = %v, want none", got)
			}
			lines := readLines(t, crashed)
			if !slices.ContainsFunc(lines, func(s string) bool {
				return strings.Contains(s, `"op":"audit.reset"`) && strings.Contains(s, "journal")
			}) {
				t.Errorf("log after an accepted reset has no audit.reset event naming the journal")
			}
			if _, err := verifyDir(t, crashed); err != nil {
				t.Errorf("Verify after an accepted reset = %v", err)
			}
		})
	}
}

// A batch of large events (a big batch call's fingerprints) goes to the
// file with an fsync of its own, beside the store's (BeforeSync), not to
// the journal; so does a batch whose journal put would share no sync, and
// then there is no store sync to start; and one the journal is too busy to
// take (Put returns no wait), beside the store's sync.
func TestJournalBypassed(t *testing.T) {
	big := testEvent(1)
	for i := range 400 {
		big.Tokens = append(big.Tokens, testFP.Token("email", fmt.Sprintf("big-%d", i)))
	}
	tests := []struct {
		name    string
		shares  bool
		busy    bool
		ev      audit.Event
		presync bool
	}{
		{"large event", true, false, big, true},
		{"nothing to share", false, false, testEvent(1), false},
		{"journal busy", true, true, testEvent(1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newMemJournal()
			j.shares = tt.shares
			presyncs := 0
			dir := t.TempDir()
			l := openLog(t, dir, audit.Options{Journal: j, FileSyncInterval: never, BeforeSync: func() { presyncs++ }})
			appendN(t, l, 1, 2) // journaled, or not
			j.mu.Lock()
			j.busy = tt.busy
			j.mu.Unlock()
			if _, err := l.Append(context.Background(), tt.ev); err != nil {
				t.Fatal(err)
			}
			closeLog(t, l)
			if j.puts > 2 || (presyncs > 0) != tt.presync {
				t.Errorf("journal puts = %d, BeforeSync calls = %d; want the event not journaled, BeforeSync called: %v", j.puts, presyncs, tt.presync)
			}
			if sum, err := verifyDir(t, dir); err != nil || sum.Events != 3 {
				t.Errorf("Verify = %+v, %v; want 3 events, nil", sum, err)
			}
		})
	}
}

// A journal that cannot take the lines fails the Append, and the log stays
// unusable (fail-closed), as after a failed fsync.
func TestJournalPutFails(t *testing.T) {
	j := newMemJournal()
	l := openLog(t, t.TempDir(), audit.Options{Journal: j, FileSyncInterval: never})
	defer l.Close()
	appendN(t, l, 1, 1)
	j.mu.Lock()
	j.putErr = errors.New("disk gone")
	j.mu.Unlock()
	if _, err := l.Append(context.Background(), testEvent(2)); err == nil {
		t.Fatal("Append with a failing journal = nil error, want the failure")
	}
	j.mu.Lock()
	j.putErr = nil
	j.mu.Unlock()
	if _, err := l.Append(context.Background(), testEvent(3)); err == nil {
		t.Error("Append after a journal failure = nil error, want the log unusable until reopened")
	}
}
