package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/spf13/pflag"
)

// pprofFlag defines serve's --pprof flag (kept apart so the flag moves to
// any CLI framework as one piece).
func pprofFlag(fs *pflag.FlagSet) *string {
	return fs.String("pprof", "", "serve Go profiles (net/http/pprof) on this loopback host:port, e.g. 127.0.0.1:6060; off when empty")
}

// startPprof serves the runtime profiles on addr, which must be a loopback
// address: profiles show code paths and memory, so they are never exposed
// beyond the host. It returns the bound address and a stop function.
func startPprof(addr string, log *slog.Logger) (string, func(), error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, fmt.Errorf("--pprof %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", nil, errors.New("--pprof must be a loopback address (127.0.0.1, ::1 or localhost), got " + addr)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(lis)
	log.Info("pprof serving", "listen", lis.Addr().String())
	return lis.Addr().String(), func() { srv.Close() }, nil
}
