package postgres_test

import (
	"context"
	"testing"

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
