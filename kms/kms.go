// Package kms holds data-key keyrings: one per data class, versioned, with a
// current version for new data and a minimum version still allowed to
// decrypt. Providers (development, HashiCorp Vault) keep keyrings wrapped by
// a key-encryption key and hand out unwrapped snapshots to be cached in
// memory, so the data path needs no call to a provider.
package kms

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// KeySize is the size of every data key: AES-256 for GCM, HMAC and FF1.
const KeySize = 32

var (
	// ErrUnknownVersion is returned for a key version the keyring never had.
	ErrUnknownVersion = errors.New("kms: unknown key version")
	// ErrRetiredVersion is returned for a version below the keyring's
	// minimum decryption version.
	ErrRetiredVersion = errors.New("kms: key version retired")
	// ErrUnavailable is returned when the key provider cannot be reached.
	ErrUnavailable = errors.New("kms: key provider unavailable")
	// ErrInvalidVersion is returned for a minimum decryption version
	// outside 1..current.
	ErrInvalidVersion = errors.New("kms: invalid key version")
)

// Provider stores keyrings wrapped and returns them unwrapped.
// Implementations must pass kmstest.Run.
type Provider interface {
	// Keyring returns the current keyring of class, creating it with one
	// fresh version if the class has none yet.
	Keyring(ctx context.Context, class string) (*Keyring, error)
	// Rotate adds a fresh version to class's keyring and makes it current.
	Rotate(ctx context.Context, class string) (*Keyring, error)
	// SetMinDecryptionVersion retires every version below v of class's
	// keyring. v must be between 1 and the current version; lowering it
	// again is allowed while the old versions are still held.
	SetMinDecryptionVersion(ctx context.Context, class string, v uint32) (*Keyring, error)
	// Rewrap re-wraps every stored data key under the newest version of the
	// key-encryption key and reports how many it re-wrapped. The data keys
	// themselves do not change.
	Rewrap(ctx context.Context) (int, error)
	// Close releases the provider.
	Close() error
}

// Key is one version of a class data key. The secret stays inside: callers
// get purpose-bound subkeys from Derive, never the root secret.
type Key struct {
	version uint32
	secret  []byte
}

// NewKey returns a Key for a provider that just unwrapped secret. It keeps
// secret; the caller must not modify it afterwards.
func NewKey(version uint32, secret []byte) (*Key, error) {
	if len(secret) != KeySize {
		return nil, fmt.Errorf("kms: data key is %d bytes, want %d", len(secret), KeySize)
	}
	if version == 0 {
		return nil, errors.New("kms: key version 0 is reserved")
	}
	return &Key{version: version, secret: secret}, nil
}

// Version returns the key's version number, starting at 1.
func (k *Key) Version() uint32 { return k.version }

// Derive returns a 32-byte subkey bound to label (HKDF-SHA256). Distinct
// labels give independent keys, so one data key can serve GCM, HMAC index
// and FF1 without reusing key material across algorithms.
func (k *Key) Derive(label string) []byte {
	out, err := hkdf.Key(sha256.New, k.secret, nil, "privacyvault/v1/"+label, KeySize)
	if err != nil {
		// hkdf.Key fails only for lengths over 255*32 bytes.
		panic("kms: hkdf: " + err.Error())
	}
	return out
}

// Keyring is an immutable snapshot of a class's key versions.
type Keyring struct {
	class      string
	current    uint32
	minDecrypt uint32
	keys       map[uint32]*Key
}

// NewKeyring returns a keyring of class with the given keys. current must be
// one of them; minDecrypt (0 or 1 meaning "all") must not exceed current.
func NewKeyring(class string, current, minDecrypt uint32, keys []*Key) (*Keyring, error) {
	m := make(map[uint32]*Key, len(keys))
	for _, k := range keys {
		m[k.version] = k
	}
	if _, ok := m[current]; !ok {
		return nil, fmt.Errorf("kms: keyring %s: current version %d missing", class, current)
	}
	if minDecrypt == 0 {
		minDecrypt = 1
	}
	if minDecrypt > current {
		return nil, fmt.Errorf("kms: keyring %s: min decryption version %d above current %d", class, minDecrypt, current)
	}
	return &Keyring{class: class, current: current, minDecrypt: minDecrypt, keys: m}, nil
}

// Class returns the data class the keyring belongs to.
func (r *Keyring) Class() string { return r.class }

// Current returns the key used for new data.
func (r *Keyring) Current() *Key { return r.keys[r.current] }

// First returns the lowest version held, even when it is retired for
// decryption. Keys that must not change when the data key rotates (token
// integrity tags, deterministic indexes, FPE keys) derive from it; so a
// provider never deletes a keyring's first version.
func (r *Keyring) First() *Key { return r.keys[r.Versions()[0]] }

// Held returns version v whether or not it is retired for decryption, or
// ErrUnknownVersion. FPE keys use it: an FPE class names its key version in
// configuration and re-tokenizes rather than retiring.
func (r *Keyring) Held(v uint32) (*Key, error) {
	k, ok := r.keys[v]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrUnknownVersion, v)
	}
	return k, nil
}

// MinDecryptionVersion returns the oldest version still allowed to decrypt.
func (r *Keyring) MinDecryptionVersion() uint32 { return r.minDecrypt }

// Versions returns every version number held, ascending.
func (r *Keyring) Versions() []uint32 { return slices.Sorted(maps.Keys(r.keys)) }

// Key returns version v for decryption: ErrUnknownVersion if the keyring
// does not hold it, ErrRetiredVersion if it is below the minimum.
func (r *Keyring) Key(v uint32) (*Key, error) {
	k, ok := r.keys[v]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrUnknownVersion, v)
	}
	if v < r.minDecrypt {
		return nil, fmt.Errorf("%w: %d", ErrRetiredVersion, v)
	}
	return k, nil
}
