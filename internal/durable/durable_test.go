package durable_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/privacyvault/privacyvault/internal/durable"
)

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := durable.WriteFile(path, []byte("one"), os.O_EXCL, 0o600); err != nil {
		t.Fatalf("WriteFile(new, O_EXCL) error = %v", err)
	}
	if err := durable.WriteFile(path, []byte("two"), os.O_EXCL, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteFile(existing, O_EXCL) error = %v, want fs.ErrExist", err)
	}
	if err := durable.WriteFile(path, []byte("3"), os.O_TRUNC, 0o600); err != nil {
		t.Fatalf("WriteFile(existing, O_TRUNC) error = %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "3" {
		t.Errorf("ReadFile() = %q, %v, want \"3\"", b, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("Stat(%s).Mode().Perm() = %v, want 0600", path, got)
	}
}

func TestSyncDirMissing(t *testing.T) {
	if err := durable.SyncDir(filepath.Join(t.TempDir(), "absent")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SyncDir(absent) error = %v, want fs.ErrNotExist", err)
	}
}
