// Package postgres implements store.Store on PostgreSQL, so a fleet of
// sidecars shares one token space: a token made by any sidecar resolves on
// every other, and the database's unique constraint on (class, index)
// makes concurrent deterministic tokenizations agree on one token.
//
// The SQL keeps to what CockroachDB and YugabyteDB also accept (see
// docs/deployment.md). Connection strings never appear in errors or logs.
package postgres

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privacyvault/privacyvault/store"
)

var _ store.Store = (*Store)(nil)

// Options configures Open.
type Options struct {
	// DSN is the connection string (URL or key=value form). It is secret:
	// it is never logged nor put into an error.
	DSN string
	// MaxConns bounds the pool; zero means pgxpool's default.
	MaxConns int32
	// CAFile, if set, is the PEM file of the CAs that sign the server's
	// certificate; connections then use TLS with full verification
	// (sslmode=verify-full).
	CAFile string
	// StatementTimeout cancels any statement running longer; zero means
	// the server's default.
	StatementTimeout time.Duration
	// NoMigrate skips applying schema migrations at open; Open then fails
	// unless the schema is current.
	NoMigrate bool
}

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	pool  *pgxpool.Pool
	group committer
	joint jointCommitter
	// copy: the server is PostgreSQL itself, so large batches without
	// indexes may go by COPY (not CockroachDB, not YugabyteDB).
	copy   bool
	mu     sync.RWMutex // guards closed against use after Close
	closed bool
}

// Config parses o into a pool configuration. Errors never quote the DSN.
func Config(o Options) (*pgxpool.Config, error) {
	if o.DSN == "" {
		return nil, errors.New("store/postgres: no connection string (set store.postgres.dsn_file or PRIVACYVAULT_POSTGRES_DSN)")
	}
	cfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		// pgx's message quotes the string with only the password
		// redacted: the rest (user, host) stays out of our errors too.
		return nil, errors.New("store/postgres: the connection string does not parse; check its syntax")
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	if o.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10)
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("store/postgres: CA file: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("store/postgres: CA file %s holds no PEM certificate", o.CAFile)
		}
		tlsFor := func(host string) *tls.Config {
			return &tls.Config{RootCAs: roots, ServerName: host, MinVersion: tls.VersionTLS12}
		}
		cfg.ConnConfig.TLSConfig = tlsFor(cfg.ConnConfig.Host)
		for _, fb := range cfg.ConnConfig.Fallbacks {
			fb.TLSConfig = tlsFor(fb.Host)
		}
		// verify-full: no plaintext fallback.
		var fbs []*pgconn.FallbackConfig
		for _, fb := range cfg.ConnConfig.Fallbacks {
			if fb.TLSConfig != nil {
				fbs = append(fbs, fb)
			}
		}
		cfg.ConnConfig.Fallbacks = fbs
	}
	return cfg, nil
}

// Open connects to the database, applies pending schema migrations (unless
// o.NoMigrate) and returns the store.
func Open(ctx context.Context, o Options) (*Store, error) {
	cfg, err := Config(o)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, wrapErr("open", err)
	}
	ok := false
	defer func() {
		if !ok {
			pool.Close()
		}
	}()
	if o.NoMigrate {
		ms, err := Migrations()
		if err != nil {
			return nil, err
		}
		v, err := SchemaVersion(ctx, pool)
		if err != nil {
			return nil, err
		}
		if v != len(ms) {
			return nil, fmt.Errorf("store/postgres: the database schema is at version %d, this binary needs %d; run privacyvault migrate", v, len(ms))
		}
	} else if _, err := Migrate(ctx, pool); err != nil {
		return nil, err
	}
	useCopy, err := isPostgreSQL(ctx, pool)
	if err != nil {
		return nil, err
	}
	ok = true
	return &Store{pool: pool, copy: useCopy, group: committer{pool: pipePool{pool}, useCopy: useCopy}, joint: jointCommitter{pool: pool}}, nil
}

// isPostgreSQL reports whether the server is PostgreSQL itself rather than
// a database speaking its protocol (CockroachDB, YugabyteDB), for the
// PostgreSQL-only fast paths.
func isPostgreSQL(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	var v string
	if err := pool.QueryRow(ctx, `SELECT version()`).Scan(&v); err != nil {
		return false, wrapErr("open", err)
	}
	return strings.HasPrefix(v, "PostgreSQL ") && !strings.Contains(v, "-YB-"), nil
}

// Pool returns the store's connection pool, for the sidecar's other users
// of the database (leases, the audit sink).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.use(ctx); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return wrapErr("ping", s.pool.Ping(ctx))
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.pool.Close()
	return nil
}

func (s *Store) use(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	return nil
}

// wrapErr makes err safe to return: connection failures become
// store.ErrUnavailable without pgx's text (which names the user, host and
// database); server errors keep their message and SQLSTATE, which never
// carry a value (details, which might, are dropped).
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("store/postgres: %s: %w", op, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if isUnavailableCode(pgErr.Code) {
			return fmt.Errorf("store/postgres: %s: %w (SQLSTATE %s)", op, store.ErrUnavailable, pgErr.Code)
		}
		return fmt.Errorf("store/postgres: %s: %s (SQLSTATE %s)", op, pgErr.Message, pgErr.Code)
	}
	// Anything else from the driver (no connection, a broken one, a
	// protocol error) means the database cannot be used right now; its
	// text may name the server and user, so it stays out.
	return fmt.Errorf("store/postgres: %s: %w", op, store.ErrUnavailable)
}

// isUnavailableCode reports whether SQLSTATE code means the server cannot
// serve now (class 08 connection exceptions, 53 insufficient resources,
// 57P0x shutdowns) rather than that the statement is wrong.
func isUnavailableCode(code string) bool {
	switch {
	case len(code) == 5 && (code[:2] == "08" || code[:2] == "53"):
		return true
	case code == "57P01", code == "57P02", code == "57P03":
		return true
	}
	return false
}
