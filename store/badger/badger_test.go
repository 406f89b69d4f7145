package badger_test

import (
	"testing"

	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/store/badger"
	"github.com/privacyvault/privacyvault/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) store.Store {
		s, err := badger.Open(badger.Options{Dir: dir})
		if err != nil {
			t.Fatalf("Open(%s) error = %v", dir, err)
		}
		return s
	})
}

// TestConformanceSyncOnDemand: the suite again with lazy syncs, as the
// server runs the store beside the audit log. Nothing kicks here: every
// durable result comes from a waiter's demand.
func TestConformanceSyncOnDemand(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) store.Store {
		s, err := badger.Open(badger.Options{Dir: dir})
		if err != nil {
			t.Fatalf("Open(%s) error = %v", dir, err)
		}
		s.SyncOnDemand()
		return s
	})
}
