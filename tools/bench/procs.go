package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// benchToken is the static bearer token of the bench caller (--dev only).
const benchToken = "bench-token-0000000000000001"

// benchConfig is the sidecar configuration: one class per measured mode,
// one caller allowed to see everything for purpose "bench".
const benchConfig = `server:
  listen: %s
  data_dir: %s
  max_batch: 10000
keys:
  provider: dev
classes:
  - name: rnd
    mode: random
  - name: det
    mode: deterministic
  - name: fpe
    mode: fpe
    format: {name: digits}
callers:
  - identity: bench
    token: ` + benchToken + `
policy:
  purposes:
    - name: bench
  grants:
    - identity: bench
      purpose: bench
      class: "*"
      reveal: plain
`

// proc is a child process the bench started.
type proc struct {
	name  string
	cmd   *exec.Cmd
	addr  string
	pprof string // the sidecar's --pprof address, when profiling
	exit  chan error
	lines <-chan string
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func startProc(name, logPath string, args ...string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, exit: make(chan error, 1)}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	go func() { p.exit <- cmd.Wait(); logf.Close() }()
	p.lines = lines
	return p, nil
}

// stop sends SIGTERM and waits for the process to exit (SIGKILL after 30 s).
func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exit:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.exit
	}
}

// cpu is the process's CPU time as a point's server.
func (p *proc) cpu() cpuSource { return procCPU(p.cmd.Process.Pid) }

// peakRSS returns VmHWM of the process in bytes.
func (p *proc) peakRSS() (int64, error) { return p.status("VmHWM") }

// status returns a kB field of /proc/<pid>/status in bytes.
func (p *proc) status(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no " + field + " in /proc status")
}

// sidecar starts bin/privacyvault serve on dataDir (created with its config
// on first use) and waits until its health check answers SERVING.
func startSidecar(bin, dir string) (*proc, time.Duration, error) {
	return startSidecarWith(bin, dir, "")
}

// startSidecarWith starts a sidecar whose configuration is benchConfig
// followed by extra (top-level sections such as store).
func startSidecarWith(bin, dir, extra string) (*proc, time.Duration, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, 0, err
	}
	cfgPath := filepath.Join(dir, "bench.yaml")
	addr, err := freeAddr()
	if err != nil {
		return nil, 0, err
	}
	cfg := fmt.Sprintf(benchConfig, addr, filepath.Join(dir, "data")) + extra
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, 0, err
	}
	args := []string{bin, "serve", "--dev", "--config", cfgPath}
	var pprofAddr string
	if profileDir != "" {
		if pprofAddr, err = freeAddr(); err != nil {
			return nil, 0, err
		}
		args = append(args, "--pprof", pprofAddr)
	}
	t0 := time.Now()
	p, err := startProc("sidecar", filepath.Join(dir, "sidecar.log"), args...)
	if err != nil {
		return nil, 0, err
	}
	p.addr, p.pprof = addr, pprofAddr
	if err := waitHealth(p, addr); err != nil {
		p.stop()
		return nil, 0, fmt.Errorf("sidecar (log %s): %w", filepath.Join(dir, "sidecar.log"), err)
	}
	sidecarsMu.Lock()
	sidecars[dir] = p
	sidecarsMu.Unlock()
	return p, time.Since(t0), nil
}

// sidecars are the sidecars started so far by directory, so that points
// built elsewhere (postgres.go) get their sidecar's CPU per call.
var (
	sidecarsMu sync.Mutex
	sidecars   = map[string]*proc{}
)

// sidecarIn returns the last sidecar started on dir, or nil.
func sidecarIn(dir string) *proc {
	sidecarsMu.Lock()
	defer sidecarsMu.Unlock()
	return sidecars[dir]
}

// startBare starts this program's bare health server and reads its address.
func startBare(dir string) (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p, err := startProc("bare", filepath.Join(dir, "bare.log"), self, "bare", filepath.Join(dir, "floor"))
	if err != nil {
		return nil, err
	}
	line, err := p.firstLine(30 * time.Second)
	if err != nil {
		p.stop()
		return nil, err
	}
	p.addr = strings.TrimPrefix(line, "bare listening on ")
	return p, waitHealth(p, p.addr)
}

// startDevvault starts bin/devvault on a free port and reads its address.
func startDevvault(bin, dir string) (*proc, error) {
	p, err := startProc("devvault", filepath.Join(dir, "devvault.log"), bin, "-addr", "127.0.0.1:0", "-root-token", "root")
	if err != nil {
		return nil, err
	}
	line, err := p.firstLine(60 * time.Second)
	if err != nil {
		p.stop()
		return nil, err
	}
	p.addr = strings.TrimPrefix(line, "devvault listening on ")
	return p, nil
}

func (p *proc) firstLine(timeout time.Duration) (string, error) {
	select {
	case l, ok := <-p.lines:
		if !ok {
			return "", fmt.Errorf("%s exited before printing its address", p.name)
		}
		return l, nil
	case err := <-p.exit:
		return "", fmt.Errorf("%s exited: %v", p.name, err)
	case <-time.After(timeout):
		return "", fmt.Errorf("%s printed no address within %s", p.name, timeout)
	}
}

// waitHealth polls the gRPC health service until it answers SERVING.
func waitHealth(p *proc, addr string) error {
	// Reconnect quickly: gRPC's default backoff (1 s) would be measured
	// as restart time.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 5 * time.Millisecond, Multiplier: 1.2, MaxDelay: 20 * time.Millisecond},
			MinConnectTimeout: time.Second,
		}))
	if err != nil {
		return err
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.exit:
			p.exit <- err
			return fmt.Errorf("%s exited: %v", p.name, err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && r.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("%s not serving after 2 minutes", p.name)
}

// diskUsage returns the allocated (st_blocks) and apparent sizes of the
// files under dir.
func diskUsage(dir string) (alloc, apparent int64, err error) {
	err = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		apparent += fi.Size()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			alloc += st.Blocks * 512
		}
		return nil
	})
	return alloc, apparent, err
}

// profileDir, when set (-profile), makes the sidecar serve pprof and the
// bench save a CPU profile under load and a heap profile after the load.
var profileDir string

// saveProfile fetches /debug/pprof/<what> from the sidecar into profileDir.
func (p *proc) saveProfile(what, file string) error {
	if profileDir == "" {
		return nil
	}
	resp, err := http.Get("http://" + p.pprof + "/debug/pprof/" + what)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(profileDir, file))
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	logf("saved %s", f.Name())
	return err
}

// usage returns the CPU time the process has used (user and system) and
// the bytes it has caused to be written to storage (/proc/<pid>/io
// write_bytes), so a load phase can tell its own work from the machine's.
func (p *proc) usage() (cpu time.Duration, written int64, err error) {
	pid := p.cmd.Process.Pid
	if cpu, err = procCPU(pid)(); err != nil {
		return 0, 0, err
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes:"); ok {
			written, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return cpu, written, err
		}
	}
	return 0, 0, fmt.Errorf("/proc/%d/io: no write_bytes", pid)
}
