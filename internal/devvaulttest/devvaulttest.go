// Package devvaulttest starts tools/devvault — HashiCorp Vault's real
// Transit and KV v2 engines behind a Vault-API front — as a subprocess for
// tests. A test that needs it fails, never skips, when it cannot be built
// or started.
package devvaulttest

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

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// Binary returns $DEVVAULT_BIN if set (the Makefile builds bin/devvault and
// sets it), or else builds tools/devvault into the repository's bin/
// directory, under a lock so parallel test binaries do not race.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if bin := os.Getenv("DEVVAULT_BIN"); bin != "" {
			if _, buildErr = os.Stat(bin); buildErr == nil {
				buildBin, buildErr = filepath.Abs(bin)
			}
			return
		}
		buildBin, buildErr = build()
	})
	if buildErr != nil {
		t.Fatalf("devvaulttest: cannot build devvault (needed by Vault tests): %v", buildErr)
	}
	return buildBin
}

func build() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("runtime.Caller failed")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(root, "bin", "devvault")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(bin+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(root, "tools", "devvault")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build in %s: %v\n%s", cmd.Dir, err, out)
	}
	return bin, nil
}

// DevVault is a running devvault process.
type DevVault struct {
	// Addr is the server's URL, http://127.0.0.1:port.
	Addr string
	// Token is the root token.
	Token string
	// Stderr collects the server's log.
	Stderr  *SyncBuffer
	cmd     *exec.Cmd
	stopped bool
}

// Start runs devvault on a free loopback port (unless args give -addr)
// with a random root token, killed when the test ends.
func Start(t testing.TB, args ...string) *DevVault {
	t.Helper()
	bin := Binary(t)
	tok := make([]byte, 12)
	rand.Read(tok)
	dv := &DevVault{Token: "root-" + hex.EncodeToString(tok), Stderr: &SyncBuffer{}}
	dv.cmd = exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-root-token", dv.Token}, args...)...)
	dv.cmd.Stderr = dv.Stderr
	stdout, err := dv.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := dv.cmd.Start(); err != nil {
		t.Fatalf("devvaulttest: start: %v", err)
	}
	t.Cleanup(dv.Kill)
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
			t.Fatalf("devvaulttest: devvault did not start: first line %q; stderr:\n%s", line, dv.Stderr)
		}
		dv.Addr = addr
	case <-time.After(60 * time.Second):
		t.Fatalf("devvaulttest: no address within 60s; stderr:\n%s", dv.Stderr)
	}
	return dv
}

// Kill ends the process; calling it again does nothing.
func (dv *DevVault) Kill() {
	if dv.cmd.ProcessState != nil {
		return
	}
	if dv.stopped {
		dv.cmd.Process.Signal(syscall.SIGCONT)
	}
	dv.cmd.Process.Kill()
	dv.cmd.Wait()
}

// Pause stops the process (SIGSTOP): connections hang as with a Vault that
// is down or partitioned. The test's end resumes it.
func (dv *DevVault) Pause(t testing.TB) {
	t.Helper()
	if err := dv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	dv.stopped = true
	t.Cleanup(func() { dv.Resume(t) })
	// The signal is asynchronous: wait until the kernel reports the
	// process stopped, so no request sent after Pause is served before
	// Resume.
	stat := fmt.Sprintf("/proc/%d/stat", dv.cmd.Process.Pid)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		b, err := os.ReadFile(stat)
		if err != nil {
			t.Fatalf("devvaulttest: %v", err)
		}
		// The state follows the parenthesised command name: "pid (comm) T ...".
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && (b[i+2] == 'T' || b[i+2] == 't') {
			return
		}
	}
	t.Fatal("devvaulttest: devvault did not stop within 5s")
}

// Resume continues a paused process (SIGCONT).
func (dv *DevVault) Resume(t testing.TB) {
	t.Helper()
	if dv.stopped && dv.cmd.ProcessState == nil {
		if err := dv.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		dv.stopped = false
	}
}

// Client returns an official Vault API client logged in as root.
func (dv *DevVault) Client(t testing.TB) *api.Client {
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

// SyncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
