package server

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/privacyvault/privacyvault/config"
)

// leftovers are the paths a start creates (data directory, store, keys,
// audit log and signing key) that did not exist before it: a start that
// fails removes them, so it leaves nothing behind to confuse the next one
// (a stray master key would otherwise be taken as the real one).
type leftovers []string

func newLeftovers(cfg *config.Config) leftovers {
	dataDir := cfg.Server.DataDir
	candidates := []string{
		dataDir,
		filepath.Join(dataDir, "store"),
		filepath.Join(dataDir, "devkeys"),
		AuditDir(cfg),
		AuditKeyFile(cfg),
		AuditKeyFile(cfg) + ".pub",
		AuditVerificationKeysFile(cfg),
		AuditInstanceFile(cfg),
	}
	var out leftovers
	for _, p := range candidates {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			out = append(out, p)
		}
	}
	return out
}

// remove deletes the paths, deepest first.
func (l leftovers) remove() error {
	var errs []error
	for i := len(l) - 1; i >= 0; i-- {
		if err := os.RemoveAll(l[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
