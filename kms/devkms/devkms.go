// Package devkms is a key provider for development and tests: keyrings are
// wrapped with AES-256-GCM under a master key kept in a local file. It is
// not for production — the master key sits on the same disk as the data it
// protects — and says so loudly when opened.
package devkms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/privacyvault/privacyvault/kms"
)

var _ kms.Provider = (*Provider)(nil)

const (
	masterFile   = "master.key"
	keyringsFile = "keyrings.json"
)

// Provider is the development key provider.
type Provider struct {
	dir   string
	kek   cipher.AEAD
	rings *kms.Keyrings

	mu   sync.Mutex // guards file and gen
	file fileFormat
	gen  map[string]int // class → changes made through this provider: the compare-and-set stamp
}

type fileFormat struct {
	Classes map[string]*storedRing `json:"classes"`
}

type storedRing struct {
	Current    uint32            `json:"current"`
	MinDecrypt uint32            `json:"min_decryption_version"`
	Wrapped    map[string]string `json:"wrapped"` // version → hex(nonce|ciphertext)
}

// Open opens the provider in dir, creating the master key file (mode 0600)
// on first use. logger receives the not-for-production warning.
func Open(dir string, logger *slog.Logger) (*Provider, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devkms: %w", err)
	}
	master, err := loadOrCreateMaster(filepath.Join(dir, masterFile))
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, fmt.Errorf("devkms: %w", err)
	}
	kek, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("devkms: %w", err)
	}
	p := &Provider{dir: dir, kek: kek, file: fileFormat{Classes: map[string]*storedRing{}}, gen: map[string]int{}}
	p.rings = &kms.Keyrings{Store: ringStore{p}}
	if err := p.load(); err != nil {
		return nil, err
	}
	if logger != nil {
		logger.Warn("DEVELOPMENT KEY PROVIDER: data keys are wrapped by a master key file on local disk; do not use in production, configure HashiCorp Vault instead",
			"master_key_file", filepath.Join(dir, masterFile))
	}
	return p, nil
}

func loadOrCreateMaster(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, kms.KeySize)
		rand.Read(key)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("devkms: create master key: %w", err)
		}
		if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("devkms: write master key: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("devkms: write master key: %w", err)
		}
		return key, f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("devkms: read master key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != kms.KeySize {
		return nil, fmt.Errorf("devkms: master key file %s is not %d hex-encoded bytes", path, kms.KeySize)
	}
	return key, nil
}

func (p *Provider) load() error {
	b, err := os.ReadFile(filepath.Join(p.dir, keyringsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("devkms: %w", err)
	}
	if err := json.Unmarshal(b, &p.file); err != nil {
		return fmt.Errorf("devkms: %s: %w", keyringsFile, err)
	}
	if p.file.Classes == nil {
		p.file.Classes = map[string]*storedRing{}
	}
	return nil
}

// save writes the keyrings file atomically: a crash leaves the old or the
// new file, never a torn one.
func (p *Provider) save() error {
	b, err := json.MarshalIndent(p.file, "", "  ")
	if err != nil {
		return fmt.Errorf("devkms: %w", err)
	}
	tmp := filepath.Join(p.dir, keyringsFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("devkms: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("devkms: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("devkms: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("devkms: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(p.dir, keyringsFile)); err != nil {
		return fmt.Errorf("devkms: %w", err)
	}
	return nil
}

// Keyring implements kms.Provider.
func (p *Provider) Keyring(ctx context.Context, class string) (*kms.Keyring, error) {
	return p.rings.Keyring(ctx, class)
}

// Rotate implements kms.Provider.
func (p *Provider) Rotate(ctx context.Context, class string) (*kms.Keyring, error) {
	return p.rings.Rotate(ctx, class)
}

// SetMinDecryptionVersion implements kms.Provider.
func (p *Provider) SetMinDecryptionVersion(ctx context.Context, class string, v uint32) (*kms.Keyring, error) {
	return p.rings.SetMinDecryptionVersion(ctx, class, v)
}

// Rewrap implements kms.Provider. The development master key has one
// version, so re-wrapping only re-seals every key with a fresh nonce.
func (p *Provider) Rewrap(ctx context.Context) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for class, ring := range p.file.Classes {
		for vs, w := range ring.Wrapped {
			v, secret, err := p.unwrapOne(class, vs, w)
			if err != nil {
				return n, err
			}
			ring.Wrapped[vs] = p.wrap(class, v, secret)
			n++
		}
		p.gen[class]++ // a change read before it must not be written over it
	}
	return n, p.save()
}

// Close implements kms.Provider.
func (p *Provider) Close() error { return nil }

// ringStore is the Provider as the kms.RingStore of its keyrings: the
// keyrings file, written whole on every change.
type ringStore struct{ *Provider }

var _ kms.RingStore = ringStore{}

// ReadRing implements kms.RingStore.
func (p ringStore) ReadRing(ctx context.Context, class string) (*kms.Ring, int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sr, ok := p.file.Classes[class]
	if !ok {
		return nil, p.gen[class], nil
	}
	r := &kms.Ring{Current: sr.Current, MinDecrypt: sr.MinDecrypt, Wrapped: make(map[uint32]string, len(sr.Wrapped))}
	for vs, w := range sr.Wrapped {
		v, err := strconv.ParseUint(vs, 10, 32)
		if err != nil {
			return nil, 0, fmt.Errorf("devkms: class %s: bad version %q", class, vs)
		}
		r.Wrapped[uint32(v)] = w
	}
	if err := r.Validate(); err != nil {
		return nil, 0, fmt.Errorf("devkms: class %s: %w", class, err)
	}
	return r, p.gen[class], nil
}

// CompareAndSet implements kms.RingStore.
func (p ringStore) CompareAndSet(ctx context.Context, class string, r *kms.Ring, stamp int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gen[class] != stamp {
		return fmt.Errorf("%w: class %s", kms.ErrConflict, class)
	}
	sr := &storedRing{Current: r.Current, MinDecrypt: r.MinDecrypt, Wrapped: make(map[string]string, len(r.Wrapped))}
	for v, w := range r.Wrapped {
		sr.Wrapped[strconv.FormatUint(uint64(v), 10)] = w
	}
	old, had := p.file.Classes[class]
	p.file.Classes[class] = sr
	if err := p.save(); err != nil {
		if had {
			p.file.Classes[class] = old
		} else {
			delete(p.file.Classes, class)
		}
		return err
	}
	p.gen[class]++
	return nil
}

// Wrap implements kms.RingStore.
func (p ringStore) Wrap(ctx context.Context, class string, v uint32, secret []byte) (string, error) {
	return p.wrap(class, v, secret), nil
}

// Unwrap implements kms.RingStore.
func (p ringStore) Unwrap(ctx context.Context, class string, r *kms.Ring) ([]*kms.Key, error) {
	keys := make([]*kms.Key, 0, len(r.Wrapped))
	for v, w := range r.Wrapped {
		_, secret, err := p.unwrapOne(class, strconv.FormatUint(uint64(v), 10), w)
		if err != nil {
			return nil, err
		}
		k, err := kms.NewKey(v, secret)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// wrap seals secret under the master key, bound to class and version.
func (p *Provider) wrap(class string, v uint32, secret []byte) string {
	nonce := make([]byte, p.kek.NonceSize())
	rand.Read(nonce)
	return hex.EncodeToString(p.kek.Seal(nonce, nonce, secret, wrapAD(class, v)))
}

func (p *Provider) unwrapOne(class, vs, wrapped string) (uint32, []byte, error) {
	v, err := strconv.ParseUint(vs, 10, 32)
	if err != nil {
		return 0, nil, fmt.Errorf("devkms: class %s: bad version %q", class, vs)
	}
	b, err := hex.DecodeString(wrapped)
	ns := p.kek.NonceSize()
	if err != nil || len(b) < ns {
		return 0, nil, fmt.Errorf("devkms: class %s version %d: malformed wrapped key", class, v)
	}
	secret, err := p.kek.Open(nil, b[:ns], b[ns:], wrapAD(class, uint32(v)))
	if err != nil {
		return 0, nil, fmt.Errorf("devkms: class %s version %d: unwrap failed (wrong master key?)", class, v)
	}
	return uint32(v), secret, nil
}

// wrapAD binds a wrapped key to its class and version, so a wrapped key
// copied to another slot of the file does not unwrap.
func wrapAD(class string, v uint32) []byte {
	return []byte("privacyvault/devkms/v1|" + class + "|" + strconv.FormatUint(uint64(v), 10))
}
