package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/privacyvault/privacyvault/internal/devvaulttest"
	"github.com/privacyvault/privacyvault/internal/pgtest"
)

// fleetConfig is a config file with keys in Vault at addr and the store on
// the PostgreSQL database dsn (through store.postgres.dsn_file).
func fleetConfig(t *testing.T, addr, dsn string) string {
	t.Helper()
	path := vaultConfig(t, addr, "fleet", "1s", "1h")
	dsnFile := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(dsnFile, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fmt.Sprintf("store:\n  backend: postgres\n  postgres:\n    dsn_file: %s\n", dsnFile)
	b = []byte(strings.Replace(string(b), "store:\n  backend: badger\n", st, 1))
	if !strings.Contains(string(b), dsnFile) {
		t.Fatal("sample config has no store section to replace")
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMigrateCommand: `privacyvault migrate` applies the schema once; a
// second run has nothing to do.
func TestMigrateCommand(t *testing.T) {
	t.Setenv("VAULT_TOKEN", "unused-by-migrate")
	cfg := fleetConfig(t, "http://127.0.0.1:1", pgtest.New(t))
	for _, want := range []string{"applied 2 migration(s) [1 2]; schema version 2", "applied 0 migration(s) []; schema version 2"} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"migrate", "--config", cfg}, nil, &out, &errOut); code != 0 || strings.TrimSpace(out.String()) != want {
			t.Errorf("migrate = %d, %q (stderr %q); want 0, %q", code, out.String(), errOut.String(), want)
		}
	}
}

// TestFleetKill9UnderLoad: two sidecar processes on one database; one is
// killed with SIGKILL while clients tokenize through it, and every token it
// acknowledged resolves on the other.
func TestFleetKill9UnderLoad(t *testing.T) {
	dv := devvaulttest.Start(t)
	t.Setenv("VAULT_TOKEN", dv.Token)
	cfg := fleetConfig(t, dv.Addr, pgtest.New(t))
	a := startSidecar(t, "--dev", "--config", cfg, "--data-dir", t.TempDir())
	b := startSidecar(t, "--dev", "--config", cfg, "--data-dir", t.TempDir())

	type acked struct{ class, value, token string }
	var (
		mu    sync.Mutex
		acks  []acked
		wg    sync.WaitGroup
		ready = make(chan struct{})
		once  sync.Once
	)
	ca := dial(t, a.addr)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				class, value := "email", fmt.Sprintf("w%d-%d@example.com", w, i)
				if w%2 == 1 {
					class, value = "card_number", luhn(fmt.Sprintf("4000%02d%09d", w, i))
				}
				tok, err := ca.Tokenize(context.Background(), class, []byte(value))
				if err != nil {
					return // the sidecar is gone
				}
				mu.Lock()
				acks = append(acks, acked{class, value, tok})
				if len(acks) >= 200 {
					once.Do(func() { close(ready) })
				}
				mu.Unlock()
			}
		}()
	}
	<-ready
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.cmd.Wait()
	wg.Wait()

	cb := dial(t, b.addr)
	for _, k := range acks {
		got, err := cb.Detokenize(context.Background(), "payment", k.class, k.token)
		if err != nil || string(got.Value) != k.value {
			t.Fatalf("after kill -9 of sidecar A, Detokenize(%s token A acknowledged) on B = %q, %v; want the value", k.class, got.Value, err)
		}
	}
	t.Logf("%d acknowledged tokens all resolve on the surviving sidecar", len(acks))
}

// luhn appends the Luhn check digit to digits.
func luhn(digits string) string {
	sum := 0
	for i := range len(digits) {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return digits + string(rune('0'+(10-sum%10)%10))
}
