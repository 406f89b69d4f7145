package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server"
)

// errUsage means the flags were wrong; flag has already said why.
var errUsage = errors.New("usage")

// Environment variables for serve settings; flags win over them, and they
// win over the configuration file.
const (
	envConfig  = "PRIVACYVAULT_CONFIG"
	envListen  = "PRIVACYVAULT_LISTEN"
	envDataDir = "PRIVACYVAULT_DATA_DIR"
	envLog     = "PRIVACYVAULT_LOG_LEVEL"
)

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.Bool("dev", false, "development mode: embedded sample config unless --config is given, Badger under ./data, static bearer tokens allowed, 127.0.0.1:7443")
	cfgPath := fs.String("config", "", "configuration file (env "+envConfig+")")
	listen := fs.String("listen", "", "host:port or unix:///path (env "+envListen+"; default from config, else "+config.DefaultListen+")")
	dataDir := fs.String("data-dir", "", "data directory (env "+envDataDir+"; default from config, else "+config.DefaultDataDir+")")
	httpListen := httpListenFlag(fs)
	logLevel := fs.String("log-level", "info", "debug, info, warn or error (env "+envLog+")")
	acceptReset := addAuditResetFlag(fs)
	pprofAddr := pprofFlag(fs)
	memLimit := memoryLimitFlag(fs)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "serve takes no arguments, got %q\n", fs.Args())
		return errUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(pick(*logLevel, os.Getenv(envLog), ""))); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	if err := applyMemoryLimit(*memLimit); err != nil {
		return err
	}
	if *pprofAddr != "" {
		_, stop, err := startPprof(*pprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}

	path := pick(*cfgPath, os.Getenv(envConfig), "")
	cfg, err := loadConfig(*dev, path)
	if err != nil {
		return err
	}
	cfg.Server.Listen = pick(*listen, os.Getenv(envListen), cfg.Server.Listen)
	cfg.Server.DataDir = pick(*dataDir, os.Getenv(envDataDir), cfg.Server.DataDir)

	s, err := server.Start(ctx, server.Options{Config: cfg, ConfigPath: path, Dev: *dev, Logger: log, HTTPListen: httpListen(), AcceptAuditLogReset: *acceptReset})
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	stopped := waitErr(s)
	for {
		select {
		case <-hup:
			s.ReloadPolicy() // logs its outcome; a bad file keeps the old policy
		case <-ctx.Done():
			log.Info("shutting down")
			return s.Stop()
		case err := <-stopped:
			s.Stop()
			return err
		}
	}
}

func waitErr(s *server.Server) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- s.Wait() }()
	return ch
}

func loadConfig(dev bool, path string) (*config.Config, error) {
	switch {
	case path != "":
		return config.Load(path)
	case dev:
		return config.Parse(examples.ConfigName, examples.Config)
	}
	return nil, errors.New("no configuration: pass --config FILE (or set " + envConfig + "), or --dev for embedded defaults")
}

// pick returns the first non-empty value: flag, then environment, then
// file or default.
func pick(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
