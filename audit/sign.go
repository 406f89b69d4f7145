package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/privacyvault/privacyvault/internal/durable"
)

// Signer signs checkpoints. The message is plain text, so any signer
// (a local key, Vault Transit) can sign it as is:
//
//	privacyvault audit checkpoint v1\nseq <seq>\ntime <RFC 3339 UTC>\nchain <prev hash>\n
type Signer interface {
	// Sign returns a signature over msg and the non-empty id of the key
	// that made it, stored in the checkpoint so a Verifier can pick the
	// key; it should name the key version, e.g.
	// "vault:transit/privacyvault-audit:v3" or "ed25519:3b1f0c9a2d4e5f60".
	Sign(ctx context.Context, msg []byte) (sig []byte, keyID string, err error)
}

// Verifier checks checkpoint signatures. It needs no private key.
type Verifier interface {
	// Verify returns nil if sig is a valid signature of msg by keyID.
	Verify(keyID string, msg, sig []byte) error
}

var (
	// ErrUnknownKey is returned by Ed25519Verifier.Verify for a key id it
	// has no key for.
	ErrUnknownKey = errors.New("audit: unknown signing key")
	// ErrBadSignature is returned by Ed25519Verifier.Verify for a
	// signature that does not match.
	ErrBadSignature = errors.New("audit: bad signature")
)

var (
	_ Signer   = (*Ed25519Signer)(nil)
	_ Verifier = (*Ed25519Signer)(nil)
	_ Verifier = (*Ed25519Verifier)(nil)
)

// Ed25519Signer signs checkpoints with a local Ed25519 key. It also
// verifies, which is handy where the signing process checks its own log.
type Ed25519Signer struct {
	priv ed25519.PrivateKey
	v    *Ed25519Verifier
}

// NewEd25519Signer returns a signer for priv.
func NewEd25519Signer(priv ed25519.PrivateKey) *Ed25519Signer {
	return &Ed25519Signer{priv: priv, v: NewEd25519Verifier(priv.Public().(ed25519.PublicKey))}
}

// LoadOrCreateEd25519 loads the private key at path, or generates one and
// writes it there if the file does not exist. The file is PEM "PRIVATE
// KEY" (PKCS #8), as written by `openssl genpkey -algorithm ed25519`, and
// is created with mode 0600 (its directory, if missing, with 0700). The
// mode of an existing file is not checked, since orchestrators mount
// secrets with their own modes.
func LoadOrCreateEd25519(path string) (*Ed25519Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createEd25519(path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return parseEd25519(path, data)
}

// createEd25519 writes a new key with O_EXCL, so two processes starting
// at once cannot overwrite each other's key: the loser loads the winner's.
func createEd25519(path string) (*Ed25519Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	err = durable.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateEd25519(path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: writing %s: %w", path, err)
	}
	return NewEd25519Signer(priv), nil
}

func parseEd25519(path string, data []byte) (*Ed25519Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("audit: %s is not a PEM PRIVATE KEY", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit: %s: %w", path, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("audit: %s holds a %T, want an Ed25519 key", path, key)
	}
	return NewEd25519Signer(priv), nil
}

// Sign signs msg; it never fails.
func (s *Ed25519Signer) Sign(_ context.Context, msg []byte) ([]byte, string, error) {
	return ed25519.Sign(s.priv, msg), s.KeyID(), nil
}

// Verify checks a signature by this signer's key.
func (s *Ed25519Signer) Verify(keyID string, msg, sig []byte) error {
	return s.v.Verify(keyID, msg, sig)
}

// Public returns the public key, to be written with WriteEd25519PublicKey
// for verifiers.
func (s *Ed25519Signer) Public() ed25519.PublicKey {
	return s.priv.Public().(ed25519.PublicKey)
}

// KeyID returns Ed25519KeyID of the public key.
func (s *Ed25519Signer) KeyID() string {
	return Ed25519KeyID(s.Public())
}

// Ed25519KeyID returns "ed25519:" and the hex of the first 8 bytes of the
// SHA-256 of pub, which names the key without a registry.
func Ed25519KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:8])
}

// WriteEd25519PublicKey writes pub to path as PEM "PUBLIC KEY" (PKIX),
// mode 0644, replacing any file there.
func WriteEd25519PublicKey(path string, pub ed25519.PublicKey) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// Ed25519Verifier verifies checkpoints signed by any of a set of Ed25519
// public keys, keeping retired keys verifiable after a rotation.
type Ed25519Verifier struct {
	keys map[string]ed25519.PublicKey
}

// NewEd25519Verifier returns a verifier for pubs.
func NewEd25519Verifier(pubs ...ed25519.PublicKey) *Ed25519Verifier {
	v := &Ed25519Verifier{keys: make(map[string]ed25519.PublicKey, len(pubs))}
	for _, p := range pubs {
		v.keys[Ed25519KeyID(p)] = p
	}
	return v
}

// LoadEd25519Verifier reads PEM "PUBLIC KEY" files written by
// WriteEd25519PublicKey (or `openssl pkey -pubout`).
func LoadEd25519Verifier(paths ...string) (*Ed25519Verifier, error) {
	v := NewEd25519Verifier()
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		n := 0
		for {
			var block *pem.Block
			block, data = pem.Decode(data)
			if block == nil {
				break
			}
			if block.Type != "PUBLIC KEY" {
				return nil, fmt.Errorf("audit: %s holds a PEM %s, want PUBLIC KEY", path, block.Type)
			}
			key, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("audit: %s: %w", path, err)
			}
			pub, ok := key.(ed25519.PublicKey)
			if !ok {
				return nil, fmt.Errorf("audit: %s holds a %T, want an Ed25519 key", path, key)
			}
			v.keys[Ed25519KeyID(pub)] = pub
			if id := block.Headers[keyIDHeader]; id != "" {
				// A key signing under another name (a Vault Transit
				// version), exported by ExportVerificationKeys.
				v.keys[id] = pub
			}
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("audit: %s is not a PEM PUBLIC KEY", path)
		}
	}
	return v, nil
}

// Verify checks sig over msg with the key named keyID.
func (v *Ed25519Verifier) Verify(keyID string, msg, sig []byte) error {
	pub, ok := v.keys[keyID]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownKey, keyID)
	}
	if !ed25519.Verify(pub, msg, sig) {
		return ErrBadSignature
	}
	return nil
}
