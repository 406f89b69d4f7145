package config

import (
	"fmt"
	"strings"
	"time"
)

// Store backends.
const (
	BackendBadger   = "badger"
	BackendPostgres = "postgres"
)

// EnvPostgresDSN names the environment variable that may hold the
// PostgreSQL connection string instead of store.postgres.dsn_file.
const EnvPostgresDSN = "PRIVACYVAULT_POSTGRES_DSN"

// Store selects where token records live.
type Store struct {
	// Backend is "badger" (the embedded store in <data_dir>/store, for one
	// sidecar; the default) or "postgres" (one database shared by a fleet).
	Backend  string   `yaml:"backend"`
	Postgres Postgres `yaml:"postgres"`
}

// Postgres configures the PostgreSQL store.
type Postgres struct {
	// DSNFile is a file holding the connection string (URL or key=value);
	// PRIVACYVAULT_POSTGRES_DSN is read when it is empty. The string is a
	// secret: it is never logged.
	DSNFile string `yaml:"dsn_file"`
	// MaxConns bounds the connection pool (default 8).
	MaxConns int `yaml:"max_conns"`
	// CAFile turns on TLS with full verification (sslmode=verify-full)
	// against the CAs in this PEM file.
	CAFile string `yaml:"ca_file"`
	// StatementTimeout cancels statements running longer (default 10s).
	StatementTimeout Duration `yaml:"statement_timeout"`
	// AutoMigrate applies pending schema migrations at start (default
	// true); with false, run `privacyvault migrate` before starting.
	AutoMigrate *bool `yaml:"auto_migrate"`
}

// Migrates reports whether the sidecar applies migrations at start.
func (p Postgres) Migrates() bool { return p.AutoMigrate == nil || *p.AutoMigrate }

// Audit sinks.
const (
	SinkFile     = "file"
	SinkPostgres = "postgres"
)

func (c *Config) applyStoreDefaults() {
	if c.Audit.Sink == "" {
		c.Audit.Sink = SinkFile
	}
	if c.Store.Backend == "" {
		c.Store.Backend = BackendBadger
	}
	if c.Store.Postgres.MaxConns == 0 {
		c.Store.Postgres.MaxConns = 8
	}
	if c.Store.Postgres.StatementTimeout == 0 {
		c.Store.Postgres.StatementTimeout = Duration(10 * time.Second)
	}
}

func (c *Config) validateStore(v *validator) {
	switch c.Store.Backend {
	case BackendBadger, BackendPostgres:
	default:
		v.fail(fmt.Sprintf("unknown store backend %q (want badger or postgres)", c.Store.Backend), "store", "backend")
	}
	if c.Store.Postgres.MaxConns < 0 || c.Store.Postgres.MaxConns > 1000 {
		v.fail("must be 1 to 1000", "store", "postgres", "max_conns")
	}
	if c.Store.Postgres.StatementTimeout < 0 {
		v.fail("must not be negative", "store", "postgres", "statement_timeout")
	}
	switch c.Audit.Sink {
	case SinkFile:
	case SinkPostgres:
		if c.Store.Backend != BackendPostgres {
			// One database, so a tokenize call's records and its events
			// commit in one transaction.
			v.fail("audit.sink postgres keeps the chains in the store's database: it needs store.backend: postgres", "audit", "sink")
		}
	default:
		v.fail(fmt.Sprintf("unknown audit sink %q (want file or postgres)", c.Audit.Sink), "audit", "sink")
	}
	if id := c.Audit.InstanceID; id != "" && (len(id) > 128 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e })) {
		v.fail("must be 1 to 128 printable ASCII characters without spaces", "audit", "instance_id")
	}
}
