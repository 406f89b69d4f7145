package vault_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// The devvault binary is built once per test binary, from the separate
// tools/devvault module, into a temporary directory that TestMain removes.
var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// devvaultBinary returns $DEVVAULT_BIN if set (a prebuilt binary, for
// example bin/devvault from the Makefile), or else builds tools/devvault.
// It fails the test, never skips it, if there is no binary.
func devvaultBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if bin := os.Getenv("DEVVAULT_BIN"); bin != "" {
			if _, buildErr = os.Stat(bin); buildErr == nil {
				buildBin, buildErr = filepath.Abs(bin)
			}
			return
		}
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			buildErr = fmt.Errorf("runtime.Caller failed")
			return
		}
		src := filepath.Join(filepath.Dir(file), "..", "..", "tools", "devvault")
		if buildDir, buildErr = os.MkdirTemp("", "devvault-build-"); buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "devvault")
		cmd := exec.Command("go", "build", "-o", buildBin, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOWORK=off")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build in %s: %v\n%s", src, err, out)
			return
		}
		fmt.Fprintf(os.Stderr, "built devvault in %s\n", time.Since(start).Round(time.Millisecond))
	})
	if buildErr != nil {
		t.Fatalf("no devvault binary (needed by the Vault provider tests; set DEVVAULT_BIN to an absolute path or let the test build tools/devvault): %v", buildErr)
	}
	return buildBin
}

// devVault is a running devvault process.
type devVault struct {
	Addr    string // http://127.0.0.1:port
	Token   string // root token
	cmd     *exec.Cmd
	stderr  *syncBuffer
	stopped bool
}

// startDevVault starts devvault on a free loopback port (or the address
// given with -addr in args) with a random root token, and kills it when the
// test ends.
func startDevVault(t *testing.T, args ...string) *devVault {
	t.Helper()
	bin := devvaultBinary(t)
	tok := make([]byte, 12)
	rand.Read(tok)
	dv := &devVault{Token: "root-" + hex.EncodeToString(tok), stderr: &syncBuffer{}}
	full := []string{"-addr", "127.0.0.1:0", "-root-token", dv.Token}
	dv.cmd = exec.Command(bin, append(full, args...)...)
	dv.cmd.Stderr = dv.stderr
	stdout, err := dv.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := dv.cmd.Start(); err != nil {
		t.Fatalf("start devvault: %v", err)
	}
	t.Cleanup(dv.kill)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		for sc.Scan() {
		}
	}()
	select {
	case line, ok := <-lines:
		addr, found := strings.CutPrefix(line, "devvault listening on ")
		if !ok || !found {
			t.Fatalf("devvault did not start: first line %q; stderr:\n%s", line, dv.stderr)
		}
		dv.Addr = addr
	case <-time.After(60 * time.Second):
		t.Fatalf("devvault did not print its address within 60s; stderr:\n%s", dv.stderr)
	}
	return dv
}

func (dv *devVault) kill() {
	if dv.cmd.ProcessState != nil {
		return
	}
	dv.cmd.Process.Kill()
	dv.cmd.Wait()
}

// pause stops the process (SIGSTOP) until resume; the test's end resumes it.
func (dv *devVault) pause(t *testing.T) {
	t.Helper()
	if err := dv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	dv.stopped = true
	t.Cleanup(func() { dv.resume(t) })
}

func (dv *devVault) resume(t *testing.T) {
	t.Helper()
	if dv.stopped && dv.cmd.ProcessState == nil {
		if err := dv.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		dv.stopped = false
	}
}

// client returns an official Vault API client logged in as root.
func (dv *devVault) client(t *testing.T) *api.Client {
	t.Helper()
	conf := api.DefaultConfig()
	conf.Address = dv.Addr
	c, err := api.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(dv.Token)
	return c
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
