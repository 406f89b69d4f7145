package audit_test

import (
	"path/filepath"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/audit/audittest"
)

func TestEd25519SignerConformance(t *testing.T) {
	s, err := audit.LoadOrCreateEd25519(filepath.Join(t.TempDir(), "audit-signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	audittest.RunSigner(t, s)
}
