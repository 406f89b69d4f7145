package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one embedded schema version.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded schema versions in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store/postgres: migration %s: name must start with a positive version and '_'", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("store/postgres: migrations must be numbered 1, 2, … without gaps; found %s", m.Name)
		}
	}
	return out, nil
}

// Migrate brings the schema to the latest embedded version and returns
// the versions it applied. Sidecars starting together are safe: the
// migrators queue on one row lock (SELECT … FOR UPDATE, portable to
// CockroachDB and YugabyteDB, unlike advisory locks), and each version is
// applied in the transaction that records it, so a version is applied
// exactly once.
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	// Concurrent CREATE TABLE IF NOT EXISTS can still race in the catalog
	// on PostgreSQL (unique violation on pg_type, duplicate type or table);
	// a loser retries and finds the table.
	for attempt := 0; ; attempt++ {
		_, err = pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS pv_schema_migrations (version INT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)`)
		var pgErr *pgconn.PgError
		if err != nil && attempt < 5 && errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P07" || pgErr.Code == "42710") {
			continue
		}
		break
	}
	if err != nil {
		return nil, wrapErr("migrate", err)
	}
	var applied []int
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		now := time.Now().UnixNano()
		// Row 0 is the migrators' lock.
		if _, err := tx.Exec(ctx, `INSERT INTO pv_schema_migrations (version, applied_at) VALUES (0, $1) ON CONFLICT DO NOTHING`, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT version FROM pv_schema_migrations WHERE version = 0 FOR UPDATE`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM pv_schema_migrations`).Scan(&current); err != nil {
			return err
		}
		if current > len(ms) {
			return fmt.Errorf("store/postgres: the database schema is at version %d, newer than this binary's %d; upgrade the binary", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("store/postgres: migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO pv_schema_migrations (version, applied_at) VALUES ($1, $2)`, m.Version, now); err != nil {
				return err
			}
			applied = append(applied, m.Version)
		}
		return nil
	})
	if err != nil {
		return nil, wrapErr("migrate", err)
	}
	return applied, nil
}

// SchemaVersion returns the database's schema version (0 before the first
// migration).
func SchemaVersion(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var v int
	err := pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM pv_schema_migrations`).Scan(&v)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
		return 0, nil
	}
	if err != nil {
		return 0, wrapErr("schema version", err)
	}
	return v, nil
}

// MigrateOnly connects with o, applies pending migrations and returns the
// versions applied and the schema version now in place; it is what
// `privacyvault migrate` runs.
func MigrateOnly(ctx context.Context, o Options) (applied []int, version int, err error) {
	cfg, err := Config(o)
	if err != nil {
		return nil, 0, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, 0, wrapErr("open", err)
	}
	defer pool.Close()
	if applied, err = Migrate(ctx, pool); err != nil {
		return nil, 0, err
	}
	version, err = SchemaVersion(ctx, pool)
	return applied, version, err
}
