package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/privacyvault/privacyvault/client"
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
	c2 := dial(t, s2.addr)
	values := make([]string, 0, len(acked))
	items := make([]client.DetokenizeItem, 0, len(acked))
	for v, tok := range acked {
		values = append(values, v)
		items = append(items, client.DetokenizeItem{Class: "email", Token: tok})
	}
	got, err := c2.DetokenizeBatch(context.Background(), "payment", items)
	if err != nil {
		t.Fatalf("after kill -9 DetokenizeBatch() error = %v", err)
	}
	for i, g := range got {
		if g.Err != nil || string(g.Value) != values[i] {
			t.Fatalf("after kill -9 Detokenize(token of %s) = %q, %v; want the value", values[i], g.Value, g.Err)
		}
	}
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
