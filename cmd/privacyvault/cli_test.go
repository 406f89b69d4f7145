package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/privacyvault/privacyvault/examples"
)

// leaves returns the command path (without the root) of every runnable
// command in the tree, hidden ones included.
func leaves(c *cobra.Command, prefix []string) [][]string {
	var out [][]string
	for _, sub := range c.Commands() {
		p := append(slices.Clone(prefix), sub.Name())
		if sub.Runnable() && !sub.HasSubCommands() {
			out = append(out, p)
		}
		out = append(out, leaves(sub, p)...)
	}
	return out
}

// allCommands returns every command path, groups included.
func allCommands(c *cobra.Command, prefix []string) [][]string {
	var out [][]string
	for _, sub := range c.Commands() {
		p := append(slices.Clone(prefix), sub.Name())
		out = append(out, p)
		out = append(out, allCommands(sub, p)...)
	}
	return out
}

// TestHelpEveryCommand: -h and --help work at every level, exit 0, print
// usage on stdout, and list only the command's own flags.
func TestHelpEveryCommand(t *testing.T) {
	root := newRoot(nil, &bytes.Buffer{}, &bytes.Buffer{})
	paths := append([][]string{{}}, allCommands(root, nil)...)
	for _, p := range paths {
		for _, h := range []string{"-h", "--help"} {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append(slices.Clone(p), h), nil, &out, &errOut)
			if code != 0 || !strings.Contains(out.String(), "Usage:") {
				t.Errorf("privacyvault %s %s = %d, stdout %q, stderr %q; want 0 and usage", strings.Join(p, " "), h, code, out.String(), errOut.String())
			}
		}
	}
	// Help after arguments and flags works too.
	var out bytes.Buffer
	if code := run(context.Background(), []string{"subject", "erase", "cust-42", "--receipt", "r.json", "-h"}, nil, &out, &bytes.Buffer{}); code != 0 || !strings.Contains(out.String(), "--receipt") {
		t.Errorf("subject erase cust-42 --receipt r.json -h = %d, %q; want 0 and erase's usage", code, out.String())
	}
	// A subcommand's help lists its own flags, not its siblings'.
	out.Reset()
	run(context.Background(), []string{"keys", "status", "--help"}, nil, &out, &bytes.Buffer{})
	for _, sibling := range []string{"--below", "--wait", "--from"} {
		if strings.Contains(out.String(), sibling) {
			t.Errorf("keys status --help lists %s, a sibling's flag:\n%s", sibling, out.String())
		}
	}
}

// TestUsageErrors: a bare group, an unknown subcommand, a missing required
// flag and a bad --output are usage errors (exit 2) with a hint.
func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{},
		{"keys"},
		{"keys", "frobnicate"},
		{"frobnicate"},
		{"tokenize"},
		{"keys", "status", "--output", "xml"},
		{"subject", "export"},
		{"tokenize", "--class"},
		{"serve", "--log-level", "loud"},
	}
	for _, args := range tests {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, nil, &out, &errOut); code != exitUsage || errOut.Len() == 0 {
			t.Errorf("privacyvault %s = %d, stderr %q; want %d and a message", strings.Join(args, " "), code, errOut.String(), exitUsage)
		}
	}
}

// TestCLIDocsUpToDate fails when docs/cli/ is not what the command tree
// generates (run make cli-docs).
func TestCLIDocsUpToDate(t *testing.T) {
	dir := t.TempDir()
	if err := writeDocs(newRoot(nil, &bytes.Buffer{}, &bytes.Buffer{}), dir); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join("..", "..", "docs", "cli")
	got, err := os.ReadDir(committed)
	if err != nil {
		t.Fatalf("docs/cli: %v (run make cli-docs)", err)
	}
	names := func(es []os.DirEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return out
	}
	if !slices.Equal(names(got), names(want)) {
		t.Fatalf("docs/cli files = %v, want %v (run make cli-docs)", names(got), names(want))
	}
	for _, e := range want {
		w, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		g, _ := os.ReadFile(filepath.Join(committed, e.Name()))
		if !bytes.Equal(g, w) {
			t.Errorf("docs/cli/%s is stale (run make cli-docs)", e.Name())
		}
	}
}

func TestVersionJSON(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"version", "--json"}, nil, &out, &bytes.Buffer{}); code != 0 || !strings.Contains(out.String(), `"go":"go`) || !strings.Contains(out.String(), `"revision":`) {
		t.Errorf("version --json = %d, %q; want version, revision and go", code, out.String())
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		fail bool
	}{{"debug", false}, {"INFO", false}, {"warn", false}, {"error", false}, {"info+2", true}, {"loud", true}, {"", true}}
	for _, tt := range tests {
		_, err := parseLevel(tt.in)
		if (err != nil) != tt.fail {
			t.Errorf("parseLevel(%q) error = %v, want failure %v", tt.in, err, tt.fail)
		}
	}
}

// TestFailedStartLeavesNothing: the sample configuration without --dev is
// refused with the reason, and the refused start creates no store, keys
// or audit files.
func TestFailedStartLeavesNothing(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, examples.Config, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dataDir := range []string{filepath.Join(t.TempDir(), "new"), t.TempDir()} {
		var errOut bytes.Buffer
		code := run(context.Background(), []string{"serve", "--config", cfg, "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--memory-limit", "off"}, nil, io.Discard, &errOut)
		if code != 1 || !strings.Contains(errOut.String(), "callers (static bearer tokens) are for --dev only") {
			t.Errorf("serve --config sample (no --dev) = %d, %q; want 1 and the reason", code, errOut.String())
		}
		for _, p := range []string{"store", "devkeys", "audit", "audit-signing.key", "audit-verification-keys.pem"} {
			if _, err := os.Stat(filepath.Join(dataDir, p)); err == nil {
				t.Errorf("failed start left %s behind", filepath.Join(dataDir, p))
			}
		}
	}
}

func TestLogLevelFromEnvironment(t *testing.T) {
	t.Setenv(envLog, "debug")
	var f serveFlags
	if l, err := f.level(); err != nil || l != slog.LevelDebug {
		t.Errorf("level() with %s=debug = %v, %v; want debug", envLog, l, err)
	}
	f.logLevel = "error"
	if l, err := f.level(); err != nil || l != slog.LevelError {
		t.Errorf("level() with --log-level error = %v, %v; want error (flag wins)", l, err)
	}
	t.Setenv(envLog, "loud")
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--dev"}, nil, io.Discard, &errOut); code != exitUsage || !strings.Contains(errOut.String(), "want debug, info, warn or error") {
		t.Errorf("serve with %s=loud = %d, %q; want %d", envLog, code, errOut.String(), exitUsage)
	}
}

// TestVersionFromLdflags: the Makefile's -X stamps reach version (the
// build machines set -buildvcs=false, so build info has no revision).
func TestVersionFromLdflags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "privacyvault")
	const pkg = "github.com/privacyvault/privacyvault/internal/version"
	build := exec.Command("go", "build", "-ldflags", "-X "+pkg+".version=v9.8.7 -X "+pkg+".revision=0123abc", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "privacyvault v9.8.7 (revision 0123abc, go") {
		t.Errorf("version = %q, %v; want v9.8.7, revision 0123abc and the Go version", out, err)
	}
}

// TestServeFlagsRefuseBadValues: perf's serve flags, ported to the cobra
// tree, still refuse what they refused.
func TestServeFlagsRefuseBadValues(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "--dev", "--memory-limit", "off", "--pprof", "192.0.2.1:6060"}, exitError, "--pprof must be a loopback address"},
		{[]string{"serve", "--dev", "--memory-limit", "lots"}, exitUsage, "is not a size"},
	}
	for _, tt := range tests {
		var errOut bytes.Buffer
		if code := run(context.Background(), tt.args, nil, io.Discard, &errOut); code != tt.code || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("privacyvault %s = %d, %q; want %d and %q", strings.Join(tt.args, " "), code, errOut.String(), tt.code, tt.want)
		}
	}
}
