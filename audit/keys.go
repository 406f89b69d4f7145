package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"os"
	"slices"
)

// keyIDHeader names, in an exported PEM block, the key id checkpoints and
// receipts signed by that key carry.
const keyIDHeader = "Key-Id"

// KeySource lists the public keys that verify a signer's signatures, by
// the key id the signer reports, so logs and receipts can be verified
// offline (without the signer, e.g. without Vault).
type KeySource interface {
	PublicKeys(ctx context.Context) (map[string]ed25519.PublicKey, error)
}

// CheckpointSigner signs checkpoints and receipts, verifies them and
// publishes the keys that verify them offline: an Ed25519 key file, or a
// key held by a key provider (Vault Transit).
type CheckpointSigner interface {
	Signer
	Verifier
	KeySource
}

// CheckpointSigning is a key provider that can also sign checkpoints with
// a key it holds, named name (created if missing and create is set).
type CheckpointSigning interface {
	CheckpointSigner(ctx context.Context, name string, create bool) (CheckpointSigner, error)
}

// HeadKeeping is a key provider that can also keep audit chain heads
// (their JSON) under a name, out of reach of whoever can write the log.
type HeadKeeping interface {
	ReadAuditHead(ctx context.Context, name string) (head string, ok bool, err error)
	WriteAuditHead(ctx context.Context, name, head string) error
}

var _ KeySource = (*Ed25519Signer)(nil)

// PublicKeys returns the signer's one key.
func (s *Ed25519Signer) PublicKeys(context.Context) (map[string]ed25519.PublicKey, error) {
	return map[string]ed25519.PublicKey{s.KeyID(): s.Public()}, nil
}

// EncodeVerificationKeys returns keys as PEM "PUBLIC KEY" blocks with a
// Key-Id header each, in key id order, and the ids. LoadEd25519Verifier
// reads the result.
func EncodeVerificationKeys(keys map[string]ed25519.PublicKey) ([]byte, []string, error) {
	ids := slices.Sorted(maps.Keys(keys))
	var out []byte
	for _, id := range ids {
		der, err := x509.MarshalPKIXPublicKey(keys[id])
		if err != nil {
			return nil, nil, fmt.Errorf("audit: %w", err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{keyIDHeader: id}, Bytes: der})...)
	}
	return out, ids, nil
}

// WriteVerificationKeys writes the keys of src to path (mode 0644) for
// offline verification.
func WriteVerificationKeys(ctx context.Context, path string, src KeySource) error {
	keys, err := src.PublicKeys(ctx)
	if err != nil {
		return fmt.Errorf("audit: verification keys: %w", err)
	}
	b, _, err := EncodeVerificationKeys(keys)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
