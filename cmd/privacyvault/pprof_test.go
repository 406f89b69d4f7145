package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestServePprofRefusesNonLoopback(t *testing.T) {
	tests := []string{"0.0.0.0:6060", "[::]:6060", "10.0.0.1:6060", ":6060", "example.com:6060", "6060"}
	for _, addr := range tests {
		var stderr bytes.Buffer
		code := run(context.Background(), []string{"serve", "--dev", "--data-dir", t.TempDir(), "--pprof", addr}, nil, &bytes.Buffer{}, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "--pprof") {
			t.Errorf("run(serve --pprof %s) = %d, stderr %q; want 1 and a --pprof error", addr, code, stderr.String())
		}
	}
}

func TestStartPprofServesProfiles(t *testing.T) {
	addr, stop, err := startPprof("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("startPprof(127.0.0.1:0) error = %v", err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap profile") {
		t.Errorf("GET /debug/pprof/heap = %d, %.80q; want 200 and a heap profile", resp.StatusCode, body)
	}
}
