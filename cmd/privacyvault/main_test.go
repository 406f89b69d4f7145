package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "privacyvault-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "privacyvault")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build privacyvault: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const checkoutToken = "dev-checkout-token-0001"

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// sidecar is a privacyvault serve subprocess.
type sidecar struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
}

func startSidecar(t *testing.T, args ...string) *sidecar {
	t.Helper()
	return startSidecarBin(t, binary, args...)
}

// startSidecarBin starts bin serve with args and waits until it is healthy.
func startSidecarBin(t *testing.T, bin string, args ...string) *sidecar {
	t.Helper()
	s := &sidecar{logs: &bytes.Buffer{}}
	s.addr = freeAddr(t)
	s.cmd = exec.Command(bin, append([]string{"serve", "--listen", s.addr}, args...)...)
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	c := dial(t, s.addr)
	hc := healthpb.NewHealthClient(c.Conn())
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("sidecar did not become healthy: %v\n%s", err, s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func dial(t *testing.T, addr string) *client.Client {
	t.Helper()
	c, err := client.Dial(addr, client.WithInsecure(), client.WithBearerToken(checkoutToken))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestKill9Durability checks that every acknowledged tokenize survives a
// SIGKILL of the sidecar.
func TestKill9Durability(t *testing.T) {
	dir := t.TempDir()
	s := startSidecar(t, "--dev", "--data-dir", dir)
	c := dial(t, s.addr)
	const n = 200
	items := make([]client.TokenizeItem, n)
	for i := range items {
		items[i] = client.TokenizeItem{Class: "email", Value: []byte(fmt.Sprintf("customer%04d@example.com", i))}
	}
	res, err := c.TokenizeBatch(context.Background(), items)
	if err != nil {
		t.Fatalf("TokenizeBatch() error = %v", err)
	}
	single, err := c.Tokenize(context.Background(), "email", []byte("last@example.com"))
	if err != nil {
		t.Fatalf("Tokenize() error = %v", err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()

	s2 := startSidecar(t, "--dev", "--data-dir", dir)
	c2 := dial(t, s2.addr)
	ditems := make([]client.DetokenizeItem, n)
	for i, r := range res {
		ditems[i] = client.DetokenizeItem{Class: "email", Token: r.Token}
	}
	got, err := c2.DetokenizeBatch(context.Background(), "payment", ditems)
	if err != nil {
		t.Fatalf("after kill -9 DetokenizeBatch() error = %v", err)
	}
	for i, g := range got {
		if g.Err != nil || string(g.Value) != string(items[i].Value) {
			t.Fatalf("after kill -9 item %d = %q, %v; want %q", i, g.Value, g.Err, items[i].Value)
		}
	}
	v, err := c2.Detokenize(context.Background(), "payment", "email", single)
	if err != nil || string(v.Value) != "last@example.com" {
		t.Errorf("after kill -9 Detokenize(email) = %q, %v; want last@example.com", v.Value, err)
	}
}

func TestServeUnixSocket(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "pv.sock")
	cmd := exec.Command(binary, "serve", "--dev", "--data-dir", filepath.Join(dir, "data"), "--listen", "unix://"+sock)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c := dial(t, "unix://"+sock)
	var tok string
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if tok, err = c.Tokenize(context.Background(), "email", []byte("sock@example.com")); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("Tokenize over unix socket error = %v\n%s", err, logs.String())
	}
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o660 {
		t.Errorf("socket mode = %o, want 660", got)
	}
	v, err := c.Detokenize(context.Background(), "payment", "email", tok)
	if err != nil || string(v.Value) != "sock@example.com" {
		t.Errorf("Detokenize over unix socket = %q, %v", v.Value, err)
	}
}

func TestServeNeedsConfig(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve"}, nil, &bytes.Buffer{}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "--dev") {
		t.Errorf("run(serve) = %d, stderr %q; want 1 and a hint about --dev", code, stderr.String())
	}
}

func TestServeBadConfigNamesLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("classes:\n  - name: email\n    mode: sometimes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--config", path}, nil, &bytes.Buffer{}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), path+":3: classes[0].mode") {
		t.Errorf("run(serve bad config) = %d, stderr %q; want 1 and %s:3: classes[0].mode", code, stderr.String(), path)
	}
}

func TestUnknownCommand(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"frobnicate"}, nil, &bytes.Buffer{}, &stderr); code != 2 {
		t.Errorf("run(frobnicate) = %d, want 2", code)
	}
}

// TestClientCommands runs tokenize, lookup and detokenize against an
// in-process server, as an operator would.
func TestClientCommands(t *testing.T) {
	h := servertest.Start(t, servertest.Options{Config: examples.Config})
	t.Setenv(envToken, checkoutToken)
	t.Setenv(envAddr, h.Addr)
	var out, errOut bytes.Buffer
	in := strings.NewReader("alice@example.com\nbob@example.com\n")
	if code := run(context.Background(), []string{"tokenize", "--class", "email"}, in, &out, &errOut); code != 0 {
		t.Fatalf("run(tokenize) = %d, stderr %q", code, errOut.String())
	}
	tokens := strings.Fields(out.String())
	if len(tokens) != 2 {
		t.Fatalf("run(tokenize) printed %q, want two tokens", out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"lookup", "--class", "email", "bob@example.com"}, nil, &out, &errOut); code != 0 || strings.TrimSpace(out.String()) != tokens[1] {
		t.Errorf("run(lookup bob) = %d, %q; want %q", code, out.String(), tokens[1])
	}
	out.Reset()
	args := append([]string{"detokenize", "--class", "email", "--purpose", "payment"}, tokens...)
	if code := run(context.Background(), args, nil, &out, &errOut); code != 0 || out.String() != "alice@example.com\nbob@example.com\n" {
		t.Errorf("run(detokenize) = %d, %q; want both values", code, out.String())
	}
	out.Reset()
	errOut.Reset()
	args = []string{"detokenize", "--class", "email", "--purpose", "marketing", tokens[0]}
	if code := run(context.Background(), args, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "PermissionDenied") {
		t.Errorf("run(detokenize, no grant) = %d, stderr %q; want 1 and PermissionDenied", code, errOut.String())
	}
	if code := run(context.Background(), []string{"tokenize"}, nil, &out, &errOut); code != 2 {
		t.Errorf("run(tokenize without --class) = %d, want 2", code)
	}
	out.Reset()
	if code := run(context.Background(), []string{"health", "--service", "privacyvault.v1.TokenService"}, nil, &out, &errOut); code != 0 || strings.TrimSpace(out.String()) != "SERVING" {
		t.Errorf("run(health) = %d, %q; want 0 and SERVING", code, out.String())
	}
}

// TestKeysCommands runs the rotation runbook through the CLI.
func TestKeysCommands(t *testing.T) {
	h := servertest.Start(t, servertest.Options{Config: examples.Config})
	t.Setenv(envAddr, h.Addr)
	t.Setenv(envToken, checkoutToken)
	var out, errOut bytes.Buffer
	in := strings.NewReader("a@example.com\nb@example.com\nc@example.com\n")
	if code := run(context.Background(), []string{"tokenize", "--class", "email"}, in, &out, &errOut); code != 0 {
		t.Fatalf("tokenize = %d, %s", code, errOut.String())
	}
	if code := run(context.Background(), []string{"keys", "status"}, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "PermissionDenied") {
		t.Errorf("keys status as non-admin = %d, %q; want 1 and PermissionDenied", code, errOut.String())
	}
	t.Setenv(envToken, "dev-ops-token-00000004")
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"keys", "status"}, "v1*=3"},
		{[]string{"keys", "rotate", "--class", "email", "--json"}, `"currentVersion":2`},
		{[]string{"keys", "rewrap"}, "re-wrapped"},
		{[]string{"keys", "reencrypt", "--class", "email", "--wait"}, "done, 3/3 moved"},
		{[]string{"keys", "retire", "--class", "email", "--below", "2"}, "v1 (retired)=0"},
		{[]string{"keys", "status", "--json"}, `"minDecryptionVersion":2`},
	}
	for _, st := range steps {
		out.Reset()
		errOut.Reset()
		code := run(context.Background(), st.args, nil, &out, &errOut)
		if code != 0 || !strings.Contains(out.String(), st.want) {
			t.Errorf("%s = %d, stdout %q, stderr %q; want 0 and %q", strings.Join(st.args, " "), code, out.String(), errOut.String(), st.want)
		}
	}
	// An fpe class changes keys by re-tokenization.
	t.Setenv(envToken, checkoutToken)
	out.Reset()
	if code := run(context.Background(), []string{"tokenize", "--class", "card_fpe", "4111111111111111"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("tokenize card_fpe = %d, %s", code, errOut.String())
	}
	oldTok := strings.TrimSpace(out.String())
	t.Setenv(envToken, "dev-ops-token-00000004")
	if code := run(context.Background(), []string{"keys", "rotate", "--class", "card_fpe"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("keys rotate card_fpe = %d, %s", code, errOut.String())
	}
	out.Reset()
	code := run(context.Background(), []string{"keys", "retokenize", "--class", "card_fpe", "--from", "1", "--to", "2"}, strings.NewReader(oldTok+"\n"), &out, &errOut)
	pair := strings.Split(strings.TrimSpace(out.String()), "\t")
	if code != 0 || len(pair) != 2 || pair[0] != oldTok || len(pair[1]) != 16 || pair[1] == oldTok {
		t.Errorf("keys retokenize = %d, %q, stderr %q; want \"old<TAB>new\" with a new 16-digit token", code, out.String(), errOut.String())
	}
	if code := run(context.Background(), []string{"keys", "rotate"}, nil, &out, &errOut); code != 2 {
		t.Errorf("keys rotate without --class = %d, want 2", code)
	}
}

// TestAuditCommands: verify the live log, report on a subject, then
// tamper with copies of the log and get the exact failure each time.
func TestAuditCommands(t *testing.T) {
	h := servertest.Start(t, servertest.Options{Config: examples.Config})
	t.Setenv(envAddr, h.Addr)
	t.Setenv(envToken, checkoutToken)
	c := dial(t, h.Addr)
	for i := range 6 {
		res, err := c.TokenizeBatch(context.Background(), []client.TokenizeItem{{Class: "email", Value: []byte(fmt.Sprintf("a%d@example.com", i)), SubjectID: "cust-42"}})
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res)
		}
		if _, err := c.Detokenize(context.Background(), "payment", "email", res[0].Token); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(envToken, "dev-ops-token-00000004")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"audit", "verify"}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "audit log OK") {
		t.Errorf("audit verify = %d, %q, %q; want OK", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"audit", "subject", "cust-42"}, nil, &out, &errOut); code != 0 || strings.Count(out.String(), "detokenize") != 6 || !strings.Contains(out.String(), "checkout") || !strings.Contains(out.String(), "payment") {
		t.Errorf("audit subject cust-42 = %d:\n%s\nwant six detokenize rows by checkout for payment", code, out.String())
	}
	h.Stop()

	logPath := filepath.Join(h.DataDir, "audit", "audit.log")
	pub := filepath.Join(h.DataDir, "audit-signing.key.pub")
	orig, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(orig), "\n")
	lines = lines[:len(lines)-1] // the empty string after the last newline
	if len(lines) < 8 {
		t.Fatalf("audit log has %d lines, want at least 8 to tamper with", len(lines))
	}
	edit := slices.Clone(lines)
	edit[2] = strings.Replace(edit[2], `"caller":"checkout"`, `"caller":"someone"`, 1)
	deleted := slices.Delete(slices.Clone(lines), 3, 4)
	swapped := slices.Clone(lines)
	swapped[2], swapped[3] = swapped[3], swapped[2]
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"untouched", lines, "audit log OK"},
		{"edited", edit, "line 3: event seq 3 was edited"},
		{"deleted", deleted, "deleted"},
		{"reordered", swapped, "reordered"},
	}
	for _, tt := range tests {
		copyPath := filepath.Join(t.TempDir(), "audit.log")
		if err := os.WriteFile(copyPath, []byte(strings.Join(tt.lines, "")), 0o600); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		errOut.Reset()
		code := run(context.Background(), []string{"audit", "verify", "--file", copyPath, "--public-key", pub}, nil, &out, &errOut)
		wantCode := map[bool]int{true: 0, false: 1}[tt.name == "untouched"]
		if code != wantCode || !strings.Contains(out.String()+errOut.String(), tt.want) {
			t.Errorf("audit verify --file (%s) = %d, %q %q; want %d and %q", tt.name, code, out.String(), errOut.String(), wantCode, tt.want)
		}
	}
}

// TestSIGHUPReloadsPolicy: a serve process re-reads its policy on SIGHUP.
func TestSIGHUPReloadsPolicy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, examples.Config, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startSidecar(t, "--dev", "--config", path, "--data-dir", t.TempDir())
	app := dial(t, s.addr)
	card, err := app.Tokenize(context.Background(), "card_number", []byte("4111111111111111"))
	if err != nil {
		t.Fatal(err)
	}
	analytics, err := client.Dial(s.addr, client.WithInsecure(), client.WithBearerToken("dev-analytics-token-0003"))
	if err != nil {
		t.Fatal(err)
	}
	defer analytics.Close()
	if _, err := analytics.Detokenize(context.Background(), "analytics", "card_number", card); err == nil {
		t.Fatal("Detokenize(analytics, card) before the grant succeeded")
	}
	granted := strings.Replace(string(examples.Config), "  grants:\n", "  grants:\n    - {identity: analytics, purpose: analytics, class: card_number, reveal: masked}\n", 1)
	if err := os.WriteFile(path, []byte(granted), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := analytics.Detokenize(context.Background(), "analytics", "card_number", card)
		if err == nil && got.Level == client.Masked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after SIGHUP Detokenize = %v; want the new grant\n%s", err, s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
