package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
)

// TestKill9ConcurrentUnaryTokenize: eight callers tokenize one value per
// call (deterministic class, values shared between callers so that
// concurrent calls race for the same token) while the sidecar is killed.
// Every acknowledged token must detokenize to its value after a restart,
// each value must have had one token, and the audit log must verify and
// hold at least one tokenize event per acknowledged call: the store's
// syncs run on demand beside the audit log's, and neither may lose what a
// caller was told.
func TestKill9ConcurrentUnaryTokenize(t *testing.T) {
	dir := t.TempDir()
	s := startSidecar(t, "--dev", "--data-dir", dir)
	const callers, killAfter = 8, 400
	var (
		mu    sync.Mutex
		acked = map[string]string{} // value -> token
		calls int
		dup   []string
	)
	killed := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range callers {
		c := dial(t, s.addr)
		wg.Go(func() {
			for i := 0; ; i++ {
				v := fmt.Sprintf("kill%05d@example.com", (i*callers+w)/2) // two callers per value
				tok, err := c.Tokenize(context.Background(), "email", []byte(v))
				if err != nil {
					select {
					case <-killed:
						return // the sidecar is gone: this call was never acknowledged
					default:
						t.Errorf("Tokenize before the kill: %v", err)
						return
					}
				}
				mu.Lock()
				if old, ok := acked[v]; ok && old != tok {
					dup = append(dup, v)
				}
				acked[v] = tok
				calls++
				n := calls
				mu.Unlock()
				if n == killAfter {
					once.Do(func() {
						close(killed)
						s.cmd.Process.Signal(syscall.SIGKILL)
					})
				}
			}
		})
	}
	wg.Wait()
	s.cmd.Wait()
	if len(dup) > 0 {
		t.Fatalf("values with two tokens before the kill: %q", dup)
	}

	s2 := startSidecar(t, "--dev", "--data-dir", dir)
	detokenizeAcked(t, dial(t, s2.addr), acked)
	if err := s2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s2.cmd.Wait()

	logPath := filepath.Join(dir, "audit", "audit.log")
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"op":"tokenize"`); n < calls {
		t.Errorf("audit log holds %d tokenize events, want at least the %d acknowledged calls", n, calls)
	}
	code, out := cli(t, "", "audit", "verify", "--file", logPath, "--public-key", filepath.Join(dir, "audit-signing.key.pub"))
	if code != 0 || !strings.Contains(out, "audit log OK") {
		t.Errorf("audit verify after kill -9 = %d, %q; want OK", code, out)
	}
}

// TestKill9JournalReplay: eight callers, four tokenizing one value per
// call and four detokenizing, while the sidecar is killed at a moment the
// audit log file lags the journal in the store — made certain by a binary
// built with -tags journalhold, which holds journaled lines back from the
// file until its next sync (the lag a power cut can leave, as the file is
// fsync'd lazily), with that sync an hour away. After a restart the file
// must hold an event for every acknowledged call, put back from the
// journal, and verify; every acknowledged token must detokenize.
func TestKill9JournalReplay(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "privacyvault-journalhold")
	if out, err := exec.Command("go", "build", "-tags", "journalhold", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags journalhold: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	yaml := strings.Replace(string(examples.Config), "  checkpoint_every: 1000\n", "  checkpoint_every: 1000000\n  file_sync_interval: 1h\n", 1)
	if yaml == string(examples.Config) {
		t.Fatal("the sample config has no audit.checkpoint_every: 1000 line to replace")
	}
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--dev", "--config", cfg, "--data-dir", dir}
	logPath := filepath.Join(dir, "audit", "audit.log")
	s := startSidecarBin(t, bin, args...)
	seed := make([]client.TokenizeItem, 64)
	for i := range seed {
		seed[i] = client.TokenizeItem{Class: "email", Value: fmt.Appendf(nil, "seed%02d@example.com", i)}
	}
	seeded, err := dial(t, s.addr).TokenizeBatch(context.Background(), seed)
	if err != nil {
		t.Fatalf("TokenizeBatch(seed) error = %v", err)
	}

	const callers, killAfter = 8, 400
	var (
		mu         sync.Mutex
		acked      = map[string]string{} // value -> token
		tokCalls   int
		detokCalls int
		wrongDetok []string
		killed     = make(chan struct{})
		once       sync.Once
		wg         sync.WaitGroup
	)
	// failed reports a call that failed before the kill; one failing
	// after it was never acknowledged.
	failed := func(op string, err error) {
		select {
		case <-killed:
		default:
			t.Errorf("%s before the kill: %v", op, err)
		}
	}
	count := func(tok bool) {
		mu.Lock()
		if tok {
			tokCalls++
		} else {
			detokCalls++
		}
		n := tokCalls + detokCalls
		mu.Unlock()
		if n == killAfter {
			once.Do(func() {
				close(killed)
				s.cmd.Process.Signal(syscall.SIGKILL)
			})
		}
	}
	for w := range callers {
		c := dial(t, s.addr)
		wg.Go(func() {
			for i := 0; ; i++ {
				if w%2 == 0 {
					v := fmt.Sprintf("journal%d-%05d@example.com", w, i)
					tok, err := c.Tokenize(context.Background(), "email", []byte(v))
					if err != nil {
						failed("Tokenize", err)
						return
					}
					mu.Lock()
					acked[v] = tok
					mu.Unlock()
					count(true)
					continue
				}
				k := (i*callers + w) % len(seed)
				got, err := c.Detokenize(context.Background(), "payment", "email", seeded[k].Token)
				if err != nil {
					failed("Detokenize", err)
					return
				}
				if string(got.Value) != string(seed[k].Value) {
					mu.Lock()
					wrongDetok = append(wrongDetok, string(seed[k].Value))
					mu.Unlock()
				}
				count(false)
			}
		})
	}
	wg.Wait()
	s.cmd.Wait()
	if len(wrongDetok) > 0 {
		t.Fatalf("Detokenize before the kill returned wrong values for %q", wrongDetok)
	}
	events := func() (tok, detok int) {
		b, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(b), `"op":"tokenize"`), strings.Count(string(b), `"op":"detokenize"`)
	}
	if tok, detok := events(); tok >= tokCalls+1 && detok >= detokCalls {
		t.Fatalf("audit.log after the kill holds %d tokenize and %d detokenize events for %d and %d acknowledged calls: it does not lag the journal, so nothing is tested", tok, detok, tokCalls+1, detokCalls)
	}

	s2 := startSidecarBin(t, bin, args...)
	// Open has put the journal's lines back into the file before serving.
	if tok, detok := events(); tok < tokCalls+1 || detok < detokCalls {
		t.Errorf("audit.log after the restart holds %d tokenize and %d detokenize events, want at least the %d and %d acknowledged calls (the seed batch included)", tok, detok, tokCalls+1, detokCalls)
	}
	detokenizeAcked(t, dial(t, s2.addr), acked)
	if err := s2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s2.cmd.Wait()
	if !strings.Contains(s2.logs.String(), "recovered from the journal") {
		t.Errorf("restarted sidecar did not log that it recovered events from the journal:\n%s", s2.logs)
	}
	code, out := cli(t, "", "audit", "verify", "--file", logPath, "--public-key", filepath.Join(dir, "audit-signing.key.pub"))
	if code != 0 || !strings.Contains(out, "audit log OK") {
		t.Errorf("audit verify after kill -9 = %d, %q; want OK", code, out)
	}
}

// detokenizeAcked checks that every acknowledged token (value -> token,
// class email) detokenizes to its value after the restart.
func detokenizeAcked(t *testing.T, c *client.Client, acked map[string]string) {
	t.Helper()
	values := make([]string, 0, len(acked))
	items := make([]client.DetokenizeItem, 0, len(acked))
	for v, tok := range acked {
		values = append(values, v)
		items = append(items, client.DetokenizeItem{Class: "email", Token: tok})
	}
	got, err := c.DetokenizeBatch(context.Background(), "payment", items)
	if err != nil {
		t.Fatalf("after kill -9 DetokenizeBatch() error = %v", err)
	}
	for i, g := range got {
		if g.Err != nil || string(g.Value) != values[i] {
			t.Fatalf("after kill -9 Detokenize(token of %s) = %q, %v; want the value", values[i], g.Value, g.Err)
		}
	}
}
