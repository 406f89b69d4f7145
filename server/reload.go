package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/privacyvault/privacyvault/config"
)

// policyPollInterval is how often the configuration file is checked for
// changes; SIGHUP reloads at once.
const policyPollInterval = 2 * time.Second

// ReloadPolicy re-reads the configuration file and installs its policy
// section for every call that starts afterwards. A file that fails
// validation is rejected with its file:line error and the running policy
// stays.
func (s *Server) ReloadPolicy() error {
	if s.path == "" {
		return errors.New("policy reload needs a configuration file (the --dev embedded configuration cannot change)")
	}
	p, changed, err := config.LoadPolicy(s.path, s.cfg)
	if err != nil {
		s.reg.PolicyReload(err)
		s.log.Error("policy reload rejected; the running policy stays", "file", s.path, "error", err)
		return err
	}
	s.core.SetPolicy(p)
	s.reg.PolicyReload(nil)
	s.log.Info("policy reloaded", "file", s.path)
	if len(changed) > 0 {
		s.log.Warn("configuration sections outside policy changed; they apply after a restart", "sections", changed)
	}
	return nil
}

// watchPolicy reloads the policy when the configuration file's size or
// modification time changes.
func (s *Server) watchPolicy(ctx context.Context, every time.Duration) {
	stamp := func() (time.Time, int64) {
		fi, err := os.Stat(s.path)
		if err != nil {
			return time.Time{}, -1
		}
		return fi.ModTime(), fi.Size()
	}
	lastMod, lastSize := stamp()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		mod, size := stamp()
		if mod.Equal(lastMod) && size == lastSize {
			continue
		}
		lastMod, lastSize = mod, size
		s.ReloadPolicy()
	}
}

// serveMetrics serves GET /metrics on addr when it is set.
func (s *Server) serveMetrics(addr string) error {
	if addr == "" {
		return nil
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.reg.Handler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.close = append(s.close, func() error { return hs.Close() })
	s.mlis = lis.Addr()
	go hs.Serve(lis)
	s.log.Info("metrics serving", "listen", lis.Addr().String())
	return nil
}

// MetricsAddr returns the address of the metrics listener, nil when
// metrics.listen is not set.
func (s *Server) MetricsAddr() net.Addr { return s.mlis }

// Metrics returns the server's metric registry.
func (s *Server) Metrics() interface {
	Get(string, ...string) float64
} {
	return s.reg
}
