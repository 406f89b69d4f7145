package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/store/badger"
	"github.com/privacyvault/privacyvault/store/postgres"
)

// pinger is a store on a database server, whose reachability health reports.
type pinger interface {
	Ping(ctx context.Context) error
}

// openStore opens the configured record store.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	switch cfg.Store.Backend {
	case config.BackendPostgres:
		o, err := PostgresOptions(cfg)
		if err != nil {
			return nil, err
		}
		st, err := postgres.Open(ctx, o)
		if err != nil {
			return nil, err
		}
		log.Info("store: postgres", "max_conns", o.MaxConns, "tls", o.CAFile != "", "auto_migrate", !o.NoMigrate)
		return st, nil
	default:
		return badger.Open(badger.Options{Dir: filepath.Join(cfg.Server.DataDir, "store"), Logger: log})
	}
}

// PostgresOptions returns the PostgreSQL store options cfg describes, with
// the connection string read from store.postgres.dsn_file or else
// $PRIVACYVAULT_POSTGRES_DSN. Errors never quote the string.
func PostgresOptions(cfg *config.Config) (postgres.Options, error) {
	p := cfg.Store.Postgres
	var dsn string
	switch {
	case p.DSNFile != "":
		b, err := os.ReadFile(p.DSNFile)
		if err != nil {
			// The path is configuration, not the secret: name it.
			return postgres.Options{}, fmt.Errorf("store.postgres.dsn_file: %w", errors.Unwrap(err))
		}
		dsn = strings.TrimSpace(string(b))
	default:
		dsn = os.Getenv(config.EnvPostgresDSN)
	}
	if dsn == "" {
		return postgres.Options{}, fmt.Errorf("store.backend is postgres but no connection string is set: set store.postgres.dsn_file or %s", config.EnvPostgresDSN)
	}
	return postgres.Options{
		DSN:              dsn,
		MaxConns:         int32(p.MaxConns),
		CAFile:           p.CAFile,
		StatementTimeout: p.StatementTimeout.Std(),
		NoMigrate:        !p.Migrates(),
	}, nil
}

// auditHeadName is the store meta entry holding this sidecar's audit chain
// head. A shared store holds one per sidecar, named by its head name.
func auditHeadName(cfg *config.Config) string {
	if cfg.Store.Backend != config.BackendPostgres {
		return auditHeadMeta
	}
	return auditHeadMeta + "/" + instanceName(cfg)
}

// jobLeases returns the leases that run each re-encryption job on one
// sidecar of a fleet sharing a PostgreSQL store (nil for the embedded
// store, which is this sidecar's alone). The holder name is the sidecar's
// stable instance name, so a restarted sidecar renews its own lease.
func jobLeases(cfg *config.Config, st store.Store) core.Leases {
	pg, ok := st.(*postgres.Store)
	if !ok {
		return nil
	}
	return postgres.NewLeases(pg, instanceName(cfg))
}

// instanceName is the sidecar's stable name in a fleet: audit.head_name,
// or the host name with a digest of the audit directory.
func instanceName(cfg *config.Config) string {
	if cfg.Audit.HeadName != "" {
		return cfg.Audit.HeadName
	}
	return defaultHeadName(AuditDir(cfg))
}
