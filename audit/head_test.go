package audit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
)

// memAnchor keeps a head in memory, as the store does on disk.
type memAnchor struct {
	mu sync.Mutex
	h  audit.Head
	ok bool
}

func (a *memAnchor) LoadHead(context.Context) (audit.Head, bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.h, a.ok, nil
}

func (a *memAnchor) SaveHead(_ context.Context, h audit.Head) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.h, a.ok = h, true
	return nil
}

func (a *memAnchor) Name() string { return "test anchor" }

// cutAfterLine truncates the log after its n-th line.
func cutAfterLine(t *testing.T, path string, n int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(path, []byte(strings.Join(lines[:n], "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAnchorRefusesShortOrReplacedLog(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		kind   string
	}{
		{"truncated", func(t *testing.T, path string) { cutAfterLine(t, path, 3) }, audit.KindBehind},
		{"deleted", func(t *testing.T, path string) { os.Remove(path) }, audit.KindBehind},
		{"replaced by another chain", func(t *testing.T, path string) {
			other := t.TempDir()
			l := openLog(t, other, audit.Options{})
			appendN(t, l, 1, 12)
			l.Close()
			b, _ := os.ReadFile(filepath.Join(other, audit.FileName))
			os.WriteFile(path, b, 0o600)
		}, audit.KindDiverged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			anchor := &memAnchor{}
			l := openLog(t, dir, audit.Options{Anchors: []audit.Anchor{anchor}})
			appendN(t, l, 1, 5)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			recorded := anchor.h
			tt.damage(t, filepath.Join(dir, audit.FileName))

			_, err := audit.Open(dir, audit.Options{Signer: testSigner(1), Anchors: []audit.Anchor{anchor}})
			var he *audit.HeadError
			if !errors.As(err, &he) || he.Kind != tt.kind || he.Recorded != recorded {
				t.Fatalf("Open(%s log) = %v, want a %s HeadError naming the recorded head %v", tt.name, err, tt.kind, recorded)
			}
			if !strings.Contains(err.Error(), recorded.Hash) {
				t.Errorf("Open() error %q does not name the recorded head's hash", err)
			}

			l = openLog(t, dir, audit.Options{Anchors: []audit.Anchor{anchor}, AcceptReset: true})
			defer l.Close()
			ev, err := l.Append(context.Background(), testEvent(99))
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Head(); got.Seq != ev.Seq || anchor.h.Seq != ev.Seq {
				t.Errorf("after accepted reset head = %v, anchor %v; want seq %d", got, anchor.h, ev.Seq)
			}
			b, _ := os.ReadFile(filepath.Join(dir, audit.FileName))
			if !strings.Contains(string(b), `"op":"audit.reset"`) || !strings.Contains(string(b), recorded.Hash) {
				t.Error("accepted reset is not recorded in the log with the recorded head")
			}
		})
	}
}

func TestAnchorAcceptsLogAheadOfRecordedHead(t *testing.T) {
	dir := t.TempDir()
	lagging := &memAnchor{}
	l := openLog(t, dir, audit.Options{Anchors: []audit.Anchor{lagging}})
	appendN(t, l, 1, 3)
	l.Close()
	// Events written while this anchor was not updated (it lags, like the
	// Vault copy between checkpoints).
	l = openLog(t, dir, audit.Options{})
	appendN(t, l, 4, 6)
	l.Close()
	l, err := audit.Open(dir, audit.Options{Signer: testSigner(1), Anchors: []audit.Anchor{lagging}})
	if err != nil {
		t.Fatalf("Open(log ahead of the recorded head) = %v, want nil", err)
	}
	l.Close()
}

func TestAppendFailsWhenFileDeletedOrReplaced(t *testing.T) {
	tests := []struct {
		name   string
		damage func(path string) error
	}{
		{"deleted", os.Remove},
		{"replaced", func(path string) error {
			if err := os.Rename(path, path+".old"); err != nil {
				return err
			}
			return os.WriteFile(path, nil, 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, audit.Options{})
			defer l.Close()
			appendN(t, l, 1, 2)
			if err := tt.damage(filepath.Join(dir, audit.FileName)); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Append(context.Background(), testEvent(3)); !errors.Is(err, audit.ErrFileReplaced) {
				t.Errorf("Append() after the file was %s = %v, want ErrFileReplaced", tt.name, err)
			}
		})
	}
}

// downVerifier cannot check anything, like Transit during a Vault outage.
type downVerifier struct{}

func (downVerifier) Verify(string, []byte, []byte) error {
	return fmt.Errorf("%w: connection refused", audit.ErrVerifierUnavailable)
}

func TestVerifyUnverifiableIsNotTampered(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{})
	appendN(t, l, 1, 3)
	l.Close()
	f, err := os.Open(filepath.Join(dir, audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = audit.Verify(f, downVerifier{})
	var ve *audit.VerifyError
	if !errors.As(err, &ve) || ve.Kind != audit.KindUnverifiable {
		t.Errorf("Verify(verifier down) = %v, want kind %s", err, audit.KindUnverifiable)
	}
}
