package audit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
)

func TestLoadOrCreateEd25519(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "audit.key")
	s, err := audit.LoadOrCreateEd25519(path)
	if err != nil {
		t.Fatalf("LoadOrCreateEd25519(new) = %v", err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, %v; want 0600", st.Mode().Perm(), err)
	}
	again, err := audit.LoadOrCreateEd25519(path)
	if err != nil || again.KeyID() != s.KeyID() {
		t.Errorf("LoadOrCreateEd25519(existing) = key %s, %v; want the same key %s", again.KeyID(), err, s.KeyID())
	}

	pubPath := filepath.Join(dir, "audit.pub")
	if err := audit.WriteEd25519PublicKey(pubPath, s.Public()); err != nil {
		t.Fatal(err)
	}
	v, err := audit.LoadEd25519Verifier(pubPath)
	if err != nil {
		t.Fatalf("LoadEd25519Verifier = %v", err)
	}
	msg := []byte("checkpoint")
	sig, keyID, err := s.Sign(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		keyID  string
		msg    string
		wantIs error
	}{
		{"valid", keyID, "checkpoint", nil},
		{"other message", keyID, "checkpoint!", audit.ErrBadSignature},
		{"unknown key", "ed25519:0000000000000000", "checkpoint", audit.ErrUnknownKey},
	}
	for _, tt := range tests {
		if err := v.Verify(tt.keyID, []byte(tt.msg), sig); !errors.Is(err, tt.wantIs) {
			t.Errorf("Verify(%s) = %v, want %v", tt.name, err, tt.wantIs)
		}
	}
}

func TestLoadEd25519Rejects(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		load    func(path string) error
	}{
		{"private key not PEM", "seed", func(p string) error { _, err := audit.LoadOrCreateEd25519(p); return err }},
		{"public key not PEM", "key", func(p string) error { _, err := audit.LoadEd25519Verifier(p); return err }},
		{"public key file missing", "", func(p string) error { _, err := audit.LoadEd25519Verifier(p + ".missing"); return err }},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		os.WriteFile(path, []byte(tt.content), 0o600)
		if err := tt.load(path); err == nil {
			t.Errorf("load(%s) = nil error, want an error", tt.name)
		}
	}
}
