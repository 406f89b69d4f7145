// Package pgtest gives tests a fresh PostgreSQL database on the server
// PRIVACYVAULT_TEST_POSTGRES_DSN names (`make test` starts a throwaway
// cluster and sets it: scripts/with-postgres.sh). A test that needs
// PostgreSQL fails, never skips, when the variable is unset or the server
// does not answer.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable holding the server's DSN.
const EnvDSN = "PRIVACYVAULT_TEST_POSTGRES_DSN"

// AdminDSN returns the server's DSN, failing t when it is not set.
func AdminDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		t.Fatalf("pgtest: %s is not set; these tests need PostgreSQL: run them with `make test` "+
			"(which starts a throwaway cluster from the server binaries) or scripts/with-postgres.sh go test ...", EnvDSN)
	}
	return dsn
}

// New creates an empty database for t, dropped when t ends, and returns
// its DSN.
func New(t testing.TB) string {
	t.Helper()
	admin := AdminDSN(t)
	b := make([]byte, 8)
	rand.Read(b)
	name := "pvtest_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: cannot connect to the PostgreSQL server named by %s: %v", EnvDSN, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: CREATE DATABASE: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(admin, name)
}

// withDatabase returns dsn with its database replaced by name.
func withDatabase(dsn, name string) string {
	// key=value DSNs take the last setting of a key; URLs get a query
	// parameter, which pgx also reads.
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + "dbname=" + name
	}
	return dsn + " dbname=" + name
}

// ByKey hands out one database per key within a test, so an opener called
// twice with the same directory reopens the same data.
type ByKey struct {
	mu  sync.Mutex
	dbs map[string]string
}

// DSN returns the database for key, creating it for t on first use.
func (b *ByKey) DSN(t testing.TB, key string) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dbs == nil {
		b.dbs = map[string]string{}
	}
	if dsn, ok := b.dbs[key]; ok {
		return dsn
	}
	dsn := New(t)
	b.dbs[key] = dsn
	return dsn
}
