// Package audittest is the conformance suite every checkpoint signer must
// pass (the Ed25519 key file, Vault Transit).
package audittest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
)

// RunSigner checks s: what it signs verifies, by s and offline with the
// public key it publishes; a changed signature or message is
// audit.ErrBadSignature; a key id it does not hold is audit.ErrUnknownKey.
func RunSigner(t *testing.T, s audit.CheckpointSigner) {
	ctx := context.Background()
	msg := []byte("checkpoint 42 3b1f0c9a")
	sig, keyID, err := s.Sign(ctx, msg)
	if err != nil {
		t.Fatalf("Sign() error = %v", err)
	}
	if keyID == "" || len(sig) == 0 {
		t.Fatalf("Sign() = %x, key id %q; want a signature and a key id", sig, keyID)
	}
	t.Run("RoundTrip", func(t *testing.T) {
		if err := s.Verify(keyID, msg, sig); err != nil {
			t.Errorf("Verify(own signature) = %v, want nil", err)
		}
	})
	t.Run("PublicKeyVerifiesOffline", func(t *testing.T) {
		keys, err := s.PublicKeys(ctx)
		if err != nil {
			t.Fatalf("PublicKeys() error = %v", err)
		}
		pub, ok := keys[keyID]
		if !ok {
			t.Fatalf("PublicKeys() = %d keys, none for %q", len(keys), keyID)
		}
		if !ed25519.Verify(pub, msg, sig) {
			t.Errorf("ed25519.Verify(published key %s) = false, want true", keyID)
		}
	})
	t.Run("BadSignature", func(t *testing.T) {
		bad := append([]byte(nil), sig...)
		bad[len(bad)/2] ^= 0x01
		tests := []struct {
			name     string
			msg, sig []byte
		}{
			{"changed signature", msg, bad},
			{"changed message", []byte("checkpoint 43 3b1f0c9a"), sig},
		}
		for _, tt := range tests {
			if err := s.Verify(keyID, tt.msg, tt.sig); !errors.Is(err, audit.ErrBadSignature) {
				t.Errorf("Verify(%s) = %v, want audit.ErrBadSignature", tt.name, err)
			}
		}
	})
	t.Run("UnknownKey", func(t *testing.T) {
		for _, id := range []string{"unknown:" + keyID, "ed25519:0000000000000000", ""} {
			if id == keyID {
				continue
			}
			if err := s.Verify(id, msg, sig); !errors.Is(err, audit.ErrUnknownKey) {
				t.Errorf("Verify(key id %q) = %v, want audit.ErrUnknownKey", id, err)
			}
		}
	})
}
