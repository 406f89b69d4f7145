//go:build unix

package audit_test

import (
	"testing"

	"github.com/privacyvault/privacyvault/audit"
)

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{})
	defer closeLog(t, l)
	if l2, err := audit.Open(dir, audit.Options{Signer: testSigner(1)}); err == nil {
		l2.Close()
		t.Errorf("second Open(%s) = nil error, want the lock to refuse it", dir)
	}
}
