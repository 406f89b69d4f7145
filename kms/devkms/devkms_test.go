package devkms_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/kms/devkms"
	"github.com/privacyvault/privacyvault/kms/kmstest"
)

func TestConformance(t *testing.T) {
	kmstest.Run(t, func(t *testing.T) func() kms.Provider {
		dir := t.TempDir()
		return func() kms.Provider {
			p, err := devkms.Open(dir, nil)
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			return p
		}
	})
}

func TestMasterKeyFileMode(t *testing.T) {
	dir := t.TempDir()
	if _, err := devkms.Open(dir, nil); err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatalf("Stat(master.key) error = %v", err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("master.key mode = %o, want 600", got)
	}
}

func TestWrongMasterKeyFails(t *testing.T) {
	dir := t.TempDir()
	p, err := devkms.Open(dir, nil)
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	if _, err := p.Keyring(context.Background(), "email"); err != nil {
		t.Fatalf("Keyring() error = %v", err)
	}
	other := t.TempDir()
	b, err := os.ReadFile(filepath.Join(dir, "keyrings.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "keyrings.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	q, err := devkms.Open(other, nil)
	if err != nil {
		t.Fatalf("Open(other) error = %v", err)
	}
	if _, err := q.Keyring(context.Background(), "email"); err == nil {
		t.Error("Keyring() with a different master key succeeded, want unwrap error")
	}
}
