package audit_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
)

func verifyDir(t *testing.T, dir string) (audit.Summary, error) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return audit.Verify(f, testSigner(1))
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{CheckpointEvery: 3})
	appendN(t, l, 1, 7) // checkpoints after 3 and 6, and at Close after 7
	closeLog(t, l)
	l = openLog(t, dir, audit.Options{CheckpointEvery: 3})
	appendN(t, l, 8, 9) // the chain continues; checkpoint at Close after 9
	closeLog(t, l)

	got, err := verifyDir(t, dir)
	lines := readLines(t, dir)
	want := audit.Summary{Events: 9, Checkpoints: 4, LastSeq: 9, LastCheckpointSeq: 9, LastHash: field(lines[len(lines)-1], "hash")}
	if got != want || err != nil {
		t.Errorf("Verify = %+v, %v; want %+v, nil", got, err, want)
	}
}

func TestAppendReturnsRecord(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{})
	in := testEvent(1)
	in.Seq, in.Hash = 42, "forged" // ignored
	before := time.Now()
	ev, err := l.Append(context.Background(), in)
	closeLog(t, l)
	line := readLines(t, dir)[0]
	if err != nil || ev.Seq != 1 || ev.Prev != "" || ev.Hash != field(line, "hash") ||
		ev.Time.Location() != time.UTC || ev.Time.Before(before.Add(-time.Second)) {
		t.Errorf("Append(event 1) = %+v, %v; want seq 1, empty prev, hash %s, a recent UTC time", ev, err, field(line, "hash"))
	}
}

// A torn last line is a write cut by a crash: Open drops it, says so, and
// records the drop in the chain.
func TestOpenTornLine(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{})
	appendN(t, l, 1, 3)
	closeLog(t, l)
	path := filepath.Join(dir, audit.FileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":4,"time":"2026-01-01T00:00:00Z","caller":"torn-write`)
	f.Close()

	var reported []error
	l = openLog(t, dir, audit.Options{OnError: func(err error) { reported = append(reported, err) }})
	ev, err := l.Append(context.Background(), testEvent(5))
	closeLog(t, l)

	lines := readLines(t, dir)
	if len(reported) != 1 || !errors.Is(reported[0], audit.ErrTornTail) {
		t.Errorf("OnError got %v, want one ErrTornTail", reported)
	}
	if ev.Seq != 5 || err != nil {
		t.Errorf("Append after recovery = seq %d, %v; want seq 5 (seq 4 records the recovery), nil", ev.Seq, err)
	}
	if !strings.Contains(lines[4], `"op":"audit.recover"`) || strings.Contains(strings.Join(lines, ""), "torn-write") {
		t.Errorf("line 5 = %s; want the recovery event, and no trace of the torn bytes", lines[4])
	}
	if sum, err := verifyDir(t, dir); sum.Events != 5 || err != nil {
		t.Errorf("Verify = %+v, %v; want 5 events, nil", sum, err)
	}
}

// A process that dies without Close leaves unsigned events: the next Open
// signs them before adding anything.
func TestOpenAfterCrashSignsTail(t *testing.T) {
	dir, crashed := t.TempDir(), t.TempDir()
	l := openLog(t, dir, audit.Options{})
	appendN(t, l, 1, 3)
	data, err := os.ReadFile(filepath.Join(dir, audit.FileName)) // the file as a crash would leave it
	closeLog(t, l)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(crashed, audit.FileName), data, 0o600)

	l = openLog(t, crashed, audit.Options{})
	closeLog(t, l)
	got, err := verifyDir(t, crashed)
	if got.Checkpoints != 1 || got.LastCheckpointSeq != 3 || err != nil {
		t.Errorf("Verify after reopen = %+v, %v; want 1 checkpoint at seq 3", got, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{"corrupt last line", "not a record\n"},
		{"edited last line", `{"seq":1,"time":"2026-01-01T00:00:00Z","caller":"a","op":"b","count":0,"decision":"allow","prev":"","hash":"00"}` + "\n"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, audit.FileName), []byte(tt.content), 0o600)
		_, err := audit.Open(dir, audit.Options{Signer: testSigner(1)})
		if err == nil {
			t.Errorf("Open(%s) = nil error, want refusal", tt.name)
		}
	}
}

func TestOpenNeedsSigner(t *testing.T) {
	if _, err := audit.Open(t.TempDir(), audit.Options{}); err == nil {
		t.Error("Open without a Signer = nil error, want an error")
	}
}

func TestLogFileMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit")
	closeLog(t, openLog(t, dir, audit.Options{}))
	st, err := os.Stat(filepath.Join(dir, audit.FileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("log file mode = %v, %v; want 0600", st.Mode().Perm(), err)
	}
}

func TestAppendInvalid(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{})
	defer closeLog(t, l)
	with := func(f func(*audit.Event)) audit.Event {
		ev := testEvent(1)
		f(&ev)
		return ev
	}
	tests := []struct {
		name string
		ev   audit.Event
	}{
		{"no caller", with(func(e *audit.Event) { e.Caller = "" })},
		{"no op", with(func(e *audit.Event) { e.Op = "" })},
		{"unknown decision", with(func(e *audit.Event) { e.Decision = "maybe" })},
		{"negative count", with(func(e *audit.Event) { e.Count = -1 })},
		{"raw token as fingerprint", with(func(e *audit.Event) { e.Tokens = []string{"4111111111111111"} })},
		{"18-digit raw token as fingerprint", with(func(e *audit.Event) { e.Tokens = []string{"411111111111111111"} })},
		{"18 base64url digits with stray bits", with(func(e *audit.Event) { e.Tokens = []string{"AAAAAAAAAAAAAAAAAB"} })},
		{"version 2 spelling of a subject", with(func(e *audit.Event) { e.Subject = testFP.Token("", "alice") })},
		{"raw subject as fingerprint", with(func(e *audit.Event) { e.Subject = "alice@example.com" })},
		{"invalid UTF-8", with(func(e *audit.Event) { e.Reason = "\xff" })},
		{"huge field", with(func(e *audit.Event) { e.Reason = strings.Repeat("x", 5000) })},
	}
	for _, tt := range tests {
		if _, err := l.Append(context.Background(), tt.ev); !errors.Is(err, audit.ErrInvalidEvent) {
			t.Errorf("Append(%s) = %v, want ErrInvalidEvent", tt.name, err)
		}
	}
	if n := len(readLines(t, dir)); n != 0 {
		t.Errorf("log has %d lines after refused appends, want 0", n)
	}
}

func TestAppendAfterClose(t *testing.T) {
	l := openLog(t, t.TempDir(), audit.Options{})
	closeLog(t, l)
	if _, err := l.Append(context.Background(), testEvent(1)); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}

func TestAppendCanceled(t *testing.T) {
	l := openLog(t, t.TempDir(), audit.Options{})
	defer closeLog(t, l)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Append(ctx, testEvent(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Append(canceled ctx) = %v, want context.Canceled", err)
	}
}

// Values reach the log only as fingerprints, so they never appear in it.
func TestNoValuesInLog(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{})
	const card, token, person = "4111111111111111", "tok_4111999988887777", "alice@example.com"
	ev := testEvent(1)
	ev.Tokens = []string{testFP.Token("card_number", token)}
	ev.Subject = testFP.Subject(person)
	appended, err := l.Append(context.Background(), ev)
	closeLog(t, l)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, audit.FileName))
	for _, secret := range []string{card, token, person} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("log contains %q", secret)
		}
	}
	if !bytes.Contains(data, []byte(appended.Subject)) {
		t.Errorf("log lacks the subject fingerprint %s", appended.Subject)
	}
}

type failingSigner struct{}

func (failingSigner) Sign(context.Context, []byte) ([]byte, string, error) {
	return nil, "", errors.New("signer down")
}

// A signer outage does not refuse calls: events stay durable, the failure
// is reported, and Close says the last checkpoint is missing.
func TestSignerDown(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var reported int
	l := openLog(t, dir, audit.Options{Signer: failingSigner{}, CheckpointEvery: 2, OnError: func(error) {
		mu.Lock()
		reported++
		mu.Unlock()
	}})
	appendN(t, l, 1, 3)
	closeErr := l.Close()
	got, err := verifyDir(t, dir)
	if closeErr == nil || reported != 2 || got.Events != 3 || got.Checkpoints != 0 || err != nil {
		t.Errorf("after a signer outage: Close() = %v, reports %d, Verify = %+v, %v; want an error, 2 reports (after seq 2, at Close), 3 events, 0 checkpoints", closeErr, reported, got, err)
	}
}

// Concurrent appenders share fsyncs; every event gets its own seq.
func TestConcurrentAppend(t *testing.T) {
	const workers, each = 8, 200
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{CheckpointEvery: 100})
	seqs := make([][]uint64, workers)
	errs := make(chan error, workers)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				ev, err := l.Append(context.Background(), testEvent(w*each+i))
				if err != nil {
					errs <- err
					return
				}
				seqs[w] = append(seqs[w], ev.Seq)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	closeLog(t, l)
	close(errs)
	for err := range errs {
		t.Fatalf("Append = %v", err)
	}
	t.Logf("%d appends by %d goroutines in %v: %.0f appends/s", workers*each, workers, elapsed, workers*each/elapsed.Seconds())

	seen := make(map[uint64]bool)
	for _, s := range seqs {
		for _, q := range s {
			seen[q] = true
		}
	}
	got, err := verifyDir(t, dir)
	if len(seen) != workers*each || got.Events != workers*each || got.LastSeq != workers*each || got.Checkpoints < workers*each/100 || err != nil {
		t.Errorf("distinct seqs %d, Verify = %+v, %v; want %d events, at least %d checkpoints", len(seen), got, err, workers*each, workers*each/100)
	}
}

// TestBeforeSyncPerBatch: the hook runs before each batch is made durable,
// so a store syncing beside the log is started before any Append returns.
func TestBeforeSyncPerBatch(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	calls := 0
	l := openLog(t, dir, audit.Options{BeforeSync: func() {
		mu.Lock()
		calls++
		mu.Unlock()
	}})
	for i := range 3 {
		if _, err := l.Append(context.Background(), testEvent(i+1)); err != nil {
			t.Fatalf("Append(event %d) error = %v", i+1, err)
		}
		mu.Lock()
		got := calls
		mu.Unlock()
		if got != i+1 {
			t.Fatalf("BeforeSync calls after Append %d = %d, want %d", i+1, got, i+1)
		}
	}
	closeLog(t, l)
}
