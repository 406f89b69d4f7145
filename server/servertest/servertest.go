// Package servertest runs a real privacyvault server in-process for tests:
// real config parsing, Badger store, development keys and gRPC over
// loopback TCP, stopped by t.Cleanup.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/server"
)

// Options configures Start.
type Options struct {
	// Config is the YAML configuration; server.listen and server.data_dir
	// are overridden.
	Config []byte
	// DataDir reuses a data directory (for restart tests); empty means a
	// fresh t.TempDir().
	DataDir string
	// Logs receives every log line (JSON); nil discards them.
	Logs io.Writer
	// ConfigPath names a file holding Config, to test policy reloads.
	ConfigPath string
	// KeepListen uses server.listen from Config (e.g. a Unix socket)
	// instead of a free loopback port.
	KeepListen bool
	// TracerProvider receives the server's spans (e.g. a tracetest
	// recorder); nil leaves tracing to the OTEL_* environment.
	TracerProvider trace.TracerProvider
	// HTTP also serves the HTTP/JSON gateway on a free loopback port
	// (Harness.HTTPAddr).
	HTTP bool
	// Hooks replace internal parts for fault-injection tests.
	Hooks server.Hooks
	// AuditHook wraps the data plane's auditor (see server.Options).
	AuditHook func(core.Auditor) core.Auditor
	// Clock, if set, is the data plane's clock (Hooks.Now): tests advance
	// it past a TTL instead of sleeping.
	Clock *Clock
}

// Clock is a settable clock, safe for concurrent use. It starts at the
// real time and moves only when advanced.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at the current real time.
func NewClock() *Clock { return &Clock{now: time.Now()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Harness is a running test server.
type Harness struct {
	Addr string
	// HTTPAddr is the gateway's host:port when Options.HTTP is set.
	HTTPAddr string
	DataDir  string
	Server   *server.Server
	t        testing.TB
}

// Start starts a server and registers its Stop with t.Cleanup.
func Start(t testing.TB, o Options) *Harness {
	t.Helper()
	cfg, err := config.Parse("test-config.yaml", o.Config)
	if err != nil {
		t.Fatalf("servertest: config: %v", err)
	}
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	cfg.Server.DataDir = o.DataDir
	if !o.KeepListen {
		cfg.Server.Listen = "127.0.0.1:0"
	}
	w := o.Logs
	if w == nil {
		w = io.Discard
	}
	log := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.Clock != nil {
		o.Hooks.Now = o.Clock.Now
	}
	opts := server.Options{Config: cfg, Logger: log, Dev: true, ConfigPath: o.ConfigPath, AuditHook: o.AuditHook, Hooks: o.Hooks,
		TracerProvider: o.TracerProvider}
	if o.HTTP {
		opts.HTTPListen = "127.0.0.1:0"
	}
	s, err := server.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("servertest: start: %v", err)
	}
	h := &Harness{Addr: s.Addr().String(), DataDir: o.DataDir, Server: s, t: t}
	if a := s.HTTPAddr(); a != nil {
		h.HTTPAddr = a.String()
	}
	if s.Addr().Network() == "unix" {
		h.Addr = "unix://" + s.Addr().String()
	}
	t.Cleanup(func() { h.Stop() })
	return h
}

// Stop stops the server; calling it again does nothing.
func (h *Harness) Stop() {
	if h.Server == nil {
		return
	}
	if err := h.Server.Stop(); err != nil {
		h.t.Errorf("servertest: stop: %v", err)
	}
	h.Server = nil
}

// Client returns a client authenticated with bearer token (none if
// empty), closed by t.Cleanup.
func (h *Harness) Client(token string) *client.Client {
	h.t.Helper()
	opts := []client.Option{client.WithInsecure()}
	if token != "" {
		opts = append(opts, client.WithBearerToken(token))
	}
	c, err := client.Dial(h.Addr, opts...)
	if err != nil {
		h.t.Fatalf("servertest: dial: %v", err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}
