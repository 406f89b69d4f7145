package kms

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"time"
)

// Ring is a class keyring as a provider stores it: each version's data key
// wrapped by the provider's key-encryption key, the current version and
// the minimum decryption version. Keyrings changes it by the same rules for
// every provider; a provider only stores it, wraps and unwraps.
type Ring struct {
	Current    uint32
	MinDecrypt uint32
	Wrapped    map[uint32]string
}

// Versions returns the versions held, ascending.
func (r *Ring) Versions() []uint32 { return slices.Sorted(maps.Keys(r.Wrapped)) }

func (r *Ring) clone() *Ring {
	c := *r
	c.Wrapped = maps.Clone(r.Wrapped)
	return &c
}

// Validate checks what every stored ring must satisfy: no version 0, the
// current version held, the minimum decryption version not above it.
func (r *Ring) Validate() error {
	if _, ok := r.Wrapped[0]; ok {
		return errors.New("version 0 is reserved")
	}
	if _, ok := r.Wrapped[r.Current]; !ok {
		return fmt.Errorf("current version %d missing", r.Current)
	}
	if r.MinDecrypt > r.Current {
		return fmt.Errorf("min decryption version %d above current %d", r.MinDecrypt, r.Current)
	}
	return nil
}

// ErrConflict is returned by RingStore.CompareAndSet when the ring changed
// since it was read.
var ErrConflict = errors.New("kms: keyring changed concurrently")

// RingStore is what a provider implements for Keyrings: it stores rings
// with compare-and-set, and wraps and unwraps data keys under its
// key-encryption key, bound to class and version.
type RingStore interface {
	// ReadRing returns class's ring, nil if it has none, and a stamp for
	// CompareAndSet.
	ReadRing(ctx context.Context, class string) (*Ring, int, error)
	// CompareAndSet stores ring as class's ring if the ring is still the
	// one read with stamp, else returns an error wrapping ErrConflict.
	CompareAndSet(ctx context.Context, class string, ring *Ring, stamp int) error
	// Wrap wraps secret, version v of class's data key.
	Wrap(ctx context.Context, class string, v uint32, secret []byte) (string, error)
	// Unwrap returns the keys of every version of ring.
	Unwrap(ctx context.Context, class string, ring *Ring) ([]*Key, error)
}

// Keyrings is the keyring state machine over a provider's RingStore:
// create on first use, rotate, set the minimum decryption version, each a
// read, a change and a compare-and-set, retried on conflict so concurrent
// writers (sidecars, goroutines) never lose each other's versions.
type Keyrings struct {
	Store RingStore
	// Attempts bounds compare-and-set retries (default 20).
	Attempts int
	// Log receives conflict retries at DEBUG; nil discards them.
	Log *slog.Logger
}

// Keyring returns class's keyring, creating it with one fresh version if
// the class has none.
func (k *Keyrings) Keyring(ctx context.Context, class string) (*Keyring, error) {
	r, _, err := k.Store.ReadRing(ctx, class)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r, err = k.Update(ctx, class, func(r *Ring) (*Ring, error) {
			if r != nil {
				return nil, nil // created concurrently
			}
			return k.addVersion(ctx, class, nil)
		})
		if err != nil {
			return nil, err
		}
	}
	return k.open(ctx, class, r)
}

// Rotate adds a fresh version to class's keyring and makes it current.
func (k *Keyrings) Rotate(ctx context.Context, class string) (*Keyring, error) {
	r, err := k.Update(ctx, class, func(r *Ring) (*Ring, error) { return k.addVersion(ctx, class, r) })
	if err != nil {
		return nil, err
	}
	return k.open(ctx, class, r)
}

// SetMinDecryptionVersion retires every version of class below v; v must
// be between 1 and the current version.
func (k *Keyrings) SetMinDecryptionVersion(ctx context.Context, class string, v uint32) (*Keyring, error) {
	r, err := k.Update(ctx, class, func(r *Ring) (*Ring, error) {
		if r == nil {
			return nil, fmt.Errorf("kms: class %s has no keyring", class)
		}
		if v < 1 || v > r.Current {
			return nil, fmt.Errorf("%w: %d (class %s has versions 1 to %d)", ErrInvalidVersion, v, class, r.Current)
		}
		if r.MinDecrypt == v {
			return nil, nil
		}
		next := r.clone()
		next.MinDecrypt = v
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	return k.open(ctx, class, r)
}

// Update applies change to class's ring with compare-and-set. change gets
// a copy of the stored ring (nil if there is none) and returns the ring to
// store, or nil to store nothing. On a conflict Update reads again and
// re-applies change. It returns the ring now stored.
func (k *Keyrings) Update(ctx context.Context, class string, change func(*Ring) (*Ring, error)) (*Ring, error) {
	attempts := k.Attempts
	if attempts <= 0 {
		attempts = 20
	}
	for attempt := 1; ; attempt++ {
		cur, stamp, err := k.Store.ReadRing(ctx, class)
		if err != nil {
			return nil, err
		}
		var in *Ring
		if cur != nil {
			in = cur.clone()
		}
		next, err := change(in)
		if err != nil {
			return nil, err
		}
		if next == nil {
			return cur, nil
		}
		if err := next.Validate(); err != nil {
			return nil, fmt.Errorf("kms: keyring %s: %w", class, err)
		}
		err = k.Store.CompareAndSet(ctx, class, next, stamp)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, ErrConflict) || attempt == attempts {
			return nil, err
		}
		if k.Log != nil {
			k.Log.Debug("keyring changed concurrently; retrying", "class", class, "attempt", attempt)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(1+mrand.IntN(10*attempt)) * time.Millisecond):
		}
	}
}

// addVersion returns a copy of r (nil: no keyring yet) with a fresh data
// key as the new current version.
func (k *Keyrings) addVersion(ctx context.Context, class string, r *Ring) (*Ring, error) {
	next := &Ring{Wrapped: map[uint32]string{}}
	if r != nil {
		next = r.clone()
	}
	v := next.Current + 1
	secret := make([]byte, KeySize)
	rand.Read(secret)
	defer clear(secret)
	w, err := k.Store.Wrap(ctx, class, v, secret)
	if err != nil {
		return nil, err
	}
	next.Wrapped[v] = w
	next.Current = v
	return next, nil
}

func (k *Keyrings) open(ctx context.Context, class string, r *Ring) (*Keyring, error) {
	keys, err := k.Store.Unwrap(ctx, class, r)
	if err != nil {
		return nil, err
	}
	return NewKeyring(class, r.Current, r.MinDecrypt, keys)
}
