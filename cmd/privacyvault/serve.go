package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server"
)

// Environment variables for serve settings; flags win over them, and they
// win over the configuration file.
const (
	envConfig  = "PRIVACYVAULT_CONFIG"
	envListen  = "PRIVACYVAULT_LISTEN"
	envDataDir = "PRIVACYVAULT_DATA_DIR"
	envLog     = "PRIVACYVAULT_LOG_LEVEL"
)

// serveFlags are the settings of serve (and of config show, which prints
// the configuration serve would run with).
type serveFlags struct {
	dev      bool
	config   string
	listen   string
	dataDir  string
	logLevel string
	// Flags of serve alone (other commands share the ones above).
	acceptAuditReset *bool
	pprof            *string
	memoryLimit      *string
	httpListen       func() string
}

func (f *serveFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(&f.dev, "dev", false, "development mode: embedded sample config unless --config is given, static bearer tokens allowed")
	fs.StringVar(&f.config, "config", "", "configuration file (env "+envConfig+")")
	fs.StringVar(&f.listen, "listen", "", "host:port or unix:///path (env "+envListen+"; default from config, else "+config.DefaultListen+")")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory (env "+envDataDir+"; default from config, else "+config.DefaultDataDir+")")
	fs.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error (env "+envLog+"; default info)")
}

// resolve applies flags, then environment, then the file: the effective
// configuration and the path it came from.
func (f *serveFlags) resolve() (*config.Config, string, error) {
	path := pick(f.config, os.Getenv(envConfig))
	cfg, err := loadConfig(f.dev, path)
	if err != nil {
		return nil, "", err
	}
	cfg.Server.Listen = pick(f.listen, os.Getenv(envListen), cfg.Server.Listen)
	cfg.Server.DataDir = pick(f.dataDir, os.Getenv(envDataDir), cfg.Server.DataDir)
	return cfg, path, nil
}

// level returns the log level from the flag, then the environment.
func (f *serveFlags) level() (slog.Level, error) {
	return parseLevel(pick(f.logLevel, os.Getenv(envLog), "info"))
}

// parseLevel accepts exactly debug, info, warn and error (any case):
// slog's own parser also takes offsets like "info+2", which no operator
// means.
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	switch s {
	case "debug", "DEBUG", "info", "INFO", "warn", "WARN", "error", "ERROR":
		return l, l.UnmarshalText([]byte(s))
	}
	return l, fmt.Errorf("log level %q: want debug, info, warn or error", s)
}

func serveCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the sidecar",
		Long: `Run the sidecar until SIGINT or SIGTERM. SIGHUP re-reads the policy section
of the configuration file.

Settings come from flags, then environment variables, then the
configuration file. Production identities come from mTLS, JWT or Unix
peer credentials; --dev also accepts the static bearer tokens of
"callers" and runs the embedded sample configuration when no --config is
given.`,
		Example: `  privacyvault serve --dev --data-dir ./data
  privacyvault serve --config /etc/privacyvault/config.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return serve(cmd.Context(), &f, cmd.ErrOrStderr())
		},
	}
	f.add(cmd)
	f.httpListen = httpListenFlag(cmd.Flags())
	f.acceptAuditReset = addAuditResetFlag(cmd.Flags())
	f.pprof = pprofFlag(cmd.Flags())
	f.memoryLimit = memoryLimitFlag(cmd.Flags())
	return cmd
}

func serve(ctx context.Context, f *serveFlags, stderr io.Writer) error {
	level, err := f.level()
	if err != nil {
		return usageErr{"--log-level: " + err.Error()}
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := applyMemoryLimit(*f.memoryLimit); err != nil {
		return usageErr{err.Error()}
	}
	if *f.pprof != "" {
		_, stop, err := startPprof(*f.pprof, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	cfg, path, err := f.resolve()
	if err != nil {
		return err
	}
	s, err := server.Start(ctx, server.Options{Config: cfg, ConfigPath: path, Dev: f.dev, Logger: log,
		HTTPListen: f.httpListen(), AcceptAuditLogReset: *f.acceptAuditReset})
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
