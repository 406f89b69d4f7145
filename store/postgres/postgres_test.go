package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/internal/pgtest"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/store/postgres"
	"github.com/privacyvault/privacyvault/store/storetest"
)

func TestConformance(t *testing.T) {
	var dbs pgtest.ByKey
	storetest.Run(t, func(t *testing.T, dir string) store.Store {
		s, err := postgres.Open(context.Background(), postgres.Options{DSN: dbs.DSN(t, dir)})
		if err != nil {
			t.Fatalf("Open() error = %v", err)
		}
		return s
	}, storetest.Shared())
}

// Sidecars starting together on a fresh database all open it, and the
// schema is applied once.
func TestConcurrentMigrations(t *testing.T) {
	dsn := pgtest.New(t)
	const n = 6
	errs := make([]error, n)
	applied := make([][]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			applied[i], _, errs[i] = postgres.MigrateOnly(context.Background(), postgres.Options{DSN: dsn})
		}()
	}
	wg.Wait()
	total := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("MigrateOnly() #%d error = %v", i, errs[i])
		}
		total += len(applied[i])
	}
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if total != len(ms) {
		t.Errorf("%d concurrent migrators applied %d migrations in all, want %d (each once)", n, total, len(ms))
	}
	s, err := postgres.Open(context.Background(), postgres.Options{DSN: dsn, NoMigrate: true})
	if err != nil {
		t.Fatalf("Open(NoMigrate) after migrating error = %v", err)
	}
	s.Close()
}

// Open with NoMigrate refuses a database whose schema is not current.
func TestNoMigrateNeedsSchema(t *testing.T) {
	_, err := postgres.Open(context.Background(), postgres.Options{DSN: pgtest.New(t), NoMigrate: true})
	if err == nil || !strings.Contains(err.Error(), "privacyvault migrate") {
		t.Errorf("Open(NoMigrate, empty database) error = %v, want one pointing at privacyvault migrate", err)
	}
}

// The connection string and its password appear in no error: not when it
// does not parse, not when the server cannot be reached.
func TestErrorsHideDSN(t *testing.T) {
	const password = "pw-7f3a9c-secret"
	tests := []struct {
		name, dsn, want string
	}{
		{"unreachable", "postgres://vaultuser:" + password + "@127.0.0.1:1/pvdb?connect_timeout=2", store.ErrUnavailable.Error()},
		{"unparseable", "postgres://vaultuser:" + password + "@127.0.0.1:notaport/pvdb", "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := postgres.Open(context.Background(), postgres.Options{DSN: tt.dsn})
			if err == nil {
				t.Fatal("Open() error = nil, want an error")
			}
			for _, secret := range []string{password, "vaultuser", tt.dsn} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("Open(%s) error = %q, reveals %q", tt.name, err, secret)
				}
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%s) error = %v, want one saying %q", tt.name, err, tt.want)
			}
		})
	}
}

// A lease is held by one holder at a time, renewable by it, and free for
// another once released or expired.
func TestLeases(t *testing.T) {
	s, err := postgres.Open(context.Background(), postgres.Options{DSN: pgtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	a, b := postgres.NewLeases(s, "sidecar-a"), postgres.NewLeases(s, "sidecar-b")
	steps := []struct {
		name string
		do   func() (bool, error)
		want bool
	}{
		{"a takes a free lease", func() (bool, error) { return a.Acquire(ctx, "job/x", time.Hour) }, true},
		{"b is refused while a holds it", func() (bool, error) { return b.Acquire(ctx, "job/x", time.Hour) }, false},
		{"a renews", func() (bool, error) { return a.Acquire(ctx, "job/x", time.Hour) }, true},
		{"b takes another name", func() (bool, error) { return b.Acquire(ctx, "job/y", time.Hour) }, true},
		{"a releases, b takes it", func() (bool, error) {
			if err := a.Release(ctx, "job/x"); err != nil {
				return false, err
			}
			return b.Acquire(ctx, "job/x", time.Hour)
		}, true},
		{"b's lease on y expires (negative ttl), a takes it over", func() (bool, error) {
			if _, err := b.Acquire(ctx, "job/y", -time.Second); err != nil {
				return false, err
			}
			return a.Acquire(ctx, "job/y", time.Hour)
		}, true},
	}
	for _, st := range steps {
		got, err := st.do()
		if err != nil || got != st.want {
			t.Errorf("%s: Acquire() = %v, %v; want %v", st.name, got, err, st.want)
		}
	}
}
