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
