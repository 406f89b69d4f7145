package core

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// labelSubjectWrap derives, from a class key version, the key that wraps
// per-subject keys.
const labelSubjectWrap = "subject-key-wrap/aes-256-gcm"

// Wrapped subject keys: version (4 bytes, big endian) | nonce | sealed key.
// Keys written before versions were recorded have no version prefix and
// are wrapped under the class's first version; their length tells them
// apart (nonce 12 + key 32 + tag 16).
const (
	legacyWrapLen = 12 + 32 + 16
	wrapLen       = 4 + legacyWrapLen
)

func newSubjectAEAD(k *kms.Key) cipher.AEAD {
	b, _ := aes.NewCipher(k.Derive(labelSubjectWrap))
	a, _ := cipher.NewGCM(b)
	return a
}

// subjectAEAD returns the AEAD that wraps subject keys under k, built once
// per keyring by newClass (deriving and expanding it per subject key
// showed in erasure and export profiles).
func (c *class) subjectAEAD(k *kms.Key) cipher.AEAD {
	if a, ok := c.subjectAEADs[k]; ok {
		return a
	}
	return newSubjectAEAD(k)
}

func subjectAD(class, subject string) []byte { return []byte(class + "\x00" + subject) }

// wrapSubjectKey wraps key under the class's current version.
func (c *class) wrapSubjectKey(subject string, key []byte) []byte {
	k, _ := c.ring.Held(c.current)
	return c.wrapUnder(k, subject, key)
}

// wrapUnder wraps key under version k of the class key.
func (c *class) wrapUnder(k *kms.Key, subject string, key []byte) []byte {
	a := c.subjectAEAD(k)
	out := binary.BigEndian.AppendUint32(make([]byte, 0, wrapLen), k.Version())
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	out = append(out, nonce...)
	return a.Seal(out, nonce, key, subjectAD(c.Name, subject))
}

// subjectWrapVersion returns the class key version wrapping a stored
// subject key.
func (c *class) subjectWrapVersion(wrapped []byte) (uint32, error) {
	switch len(wrapped) {
	case legacyWrapLen:
		return c.ring.First().Version(), nil
	case wrapLen:
		return binary.BigEndian.Uint32(wrapped), nil
	}
	return 0, tokenizer.ErrDecrypt
}

// unwrapSubjectKey opens a stored subject key. A key wrapped under a
// retired version does not open (retiring is refused while any exists);
// legacy keys open under the first version even if it is retired, as they
// did before versions were recorded.
func (c *class) unwrapSubjectKey(subject string, wrapped []byte) ([]byte, error) {
	v, err := c.subjectWrapVersion(wrapped)
	if err != nil {
		return nil, err
	}
	var k *kms.Key
	body := wrapped
	if len(wrapped) == legacyWrapLen {
		k = c.ring.First()
	} else {
		body = wrapped[4:]
		if k, err = c.ring.Key(v); err != nil {
			return nil, fmt.Errorf("subject key wrapped under version %d: %w", v, err)
		}
	}
	a := c.subjectAEAD(k)
	key, err := a.Open(nil, body[:a.NonceSize()], body[a.NonceSize():], subjectAD(c.Name, subject))
	if err != nil {
		return nil, tokenizer.ErrDecrypt
	}
	return key, nil
}

// subjectKeyCounts walks every stored subject key and counts them by class
// and wrapping version.
func (s *KeyAdmin) subjectKeyCounts(ctx context.Context) (map[string]map[uint32]uint64, error) {
	out := map[string]map[uint32]uint64{}
	err := s.walkSubjectKeys(ctx, func(c *class, e store.SubjectKeyEntry, v uint32) error {
		if out[c.Name] == nil {
			out[c.Name] = map[uint32]uint64{}
		}
		out[c.Name][v]++
		return nil
	})
	return out, err
}

// walkSubjectKeys calls f for every stored subject key of a configured
// class with the version wrapping it.
func (s *KeyAdmin) walkSubjectKeys(ctx context.Context, f func(c *class, e store.SubjectKeyEntry, v uint32) error) error {
	var after []byte
	for {
		page, err := s.store.SubjectKeys(ctx, after, scanPage)
		if err != nil {
			return fmt.Errorf("core: subject keys: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		for _, e := range page {
			sl, ok := s.classes[e.Class]
			if !ok {
				continue // a class no longer configured
			}
			c := sl.load()
			v, err := c.subjectWrapVersion(e.Wrapped)
			if err != nil {
				return fmt.Errorf("core: subject key of class %s is corrupt", e.Class)
			}
			if err := f(c, e, v); err != nil {
				return err
			}
		}
		after = page[len(page)-1].Cursor
	}
}

// rewrapSubjectKeys re-wraps every subject key of class below target under
// target, and returns how many it moved. A key replaced or erased
// concurrently is left alone (a new key is wrapped under the current
// version already).
func (s *KeyAdmin) rewrapSubjectKeys(ctx context.Context, className string, target uint32) (uint64, error) {
	var moved uint64
	err := s.walkSubjectKeys(ctx, func(c *class, e store.SubjectKeyEntry, v uint32) error {
		if c.Name != className || v >= target {
			return nil
		}
		if c.current < target {
			var err error
			if c, err = s.reload(ctx, className); err != nil {
				return err
			}
		}
		key, err := c.unwrapSubjectKey(string(e.Subject), e.Wrapped)
		if err != nil {
			return fmt.Errorf("core: subject key of class %s under version %d: %w", className, v, err)
		}
		k, err := c.ring.Key(target)
		if err != nil {
			return fmt.Errorf("core: rewrap subject keys of class %s: %w", className, err)
		}
		next := c.wrapUnder(k, string(e.Subject), key)
		switch err := s.store.ReplaceSubjectKey(ctx, e.Subject, className, e.Wrapped, next); {
		case err == nil:
			moved++
		case errors.Is(err, store.ErrChanged), errors.Is(err, store.ErrNotFound):
		default:
			return fmt.Errorf("core: rewrap subject key: %w", err)
		}
		return nil
	})
	return moved, err
}

// subjectKey returns subject's 32-byte key in class c, creating it on
// first use when create is set. The key is random, wrapped with AES-GCM
// under a subject-wrap key derived from the class's current key version
// (see wrapSubjectKey) and kept in the store, so concurrent first uses
// agree on one key, and erasing it shreds every value under it.
func (s *registry) subjectKey(ctx context.Context, c *class, subject string, create bool) ([]byte, error) {
	wrapped, err := s.subjectKeys.SubjectKey(ctx, []byte(subject), c.Name)
	switch {
	case errors.Is(err, store.ErrNotFound) && !create:
		return nil, ErrSubjectErased
	case errors.Is(err, store.ErrNotFound):
		key := make([]byte, 32)
		rand.Read(key)
		if wrapped, err = s.subjectKeys.PutSubjectKeyIfAbsent(ctx, []byte(subject), c.Name, c.wrapSubjectKey(subject, key)); err != nil {
			return nil, fmt.Errorf("core: subject key: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("core: subject key: %w", err)
	}
	key, err := c.unwrapSubjectKey(subject, wrapped)
	if errors.Is(err, kms.ErrUnknownVersion) {
		// Another sidecar rotated and re-wrapped the key: fetch the keyring.
		if c, err = s.reload(ctx, c.Name); err == nil {
			key, err = c.unwrapSubjectKey(subject, wrapped)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("core: subject key of class %s: %w", c.Name, err)
	}
	return key, nil
}

// recordSealer returns the sealer of record r: the subject's key for
// subject-sealed records (KeyVersion 0), else the class key version.
func (s *registry) recordSealer(ctx context.Context, c *class, r store.Record, create bool) (*tokenizer.Sealer, error) {
	return s.recordSealerCached(ctx, c, r, create, nil)
}

func (s *registry) recordSealerCached(ctx context.Context, c *class, r store.Record, create bool, cache sealerCache) (*tokenizer.Sealer, error) {
	if r.KeyVersion != 0 {
		return c.sealer(r.KeyVersion)
	}
	k := c.Name + "\x00" + string(r.Subject)
	if sl, ok := cache[k]; ok {
		return sl, nil
	}
	key, err := s.subjectKey(ctx, c, string(r.Subject), create)
	if err != nil {
		return nil, err
	}
	sl, err := tokenizer.NewSealer(c.Name, key)
	if err == nil && cache != nil {
		cache[k] = sl
	}
	return sl, err
}

// subjectTweak is the FPE tweak of a shred_with_subject class: keyed by
// the subject's key, so erasing the key makes the tokens undecryptable.
func subjectTweak(key []byte, class, context string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("privacyvault/fpe-subject-tweak\x00" + class + "\x00" + context))
	return m.Sum(nil)[:8]
}
