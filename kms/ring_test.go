package kms_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/kms/kmstest"
)

// memStore is a kms.RingStore in memory; "wrapping" keeps the secret in
// hex next to its class and version, which is enough to test the rules.
type memStore struct {
	mu        sync.Mutex
	rings     map[string]*kms.Ring
	stamps    map[string]int
	conflicts int   // CompareAndSet calls still to refuse
	down      error // every call fails with it when set
}

func newMemStore() *memStore {
	return &memStore{rings: map[string]*kms.Ring{}, stamps: map[string]int{}}
}

func (m *memStore) ReadRing(_ context.Context, class string) (*kms.Ring, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down != nil {
		return nil, 0, m.down
	}
	r := m.rings[class]
	if r == nil {
		return nil, m.stamps[class], nil
	}
	c := *r
	c.Wrapped = maps.Clone(r.Wrapped)
	return &c, m.stamps[class], nil
}

func (m *memStore) CompareAndSet(_ context.Context, class string, r *kms.Ring, stamp int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down != nil {
		return m.down
	}
	if m.conflicts > 0 || m.stamps[class] != stamp {
		m.conflicts--
		return fmt.Errorf("%w: %s", kms.ErrConflict, class)
	}
	m.rings[class] = r
	m.stamps[class]++
	return nil
}

func (m *memStore) Wrap(_ context.Context, class string, v uint32, secret []byte) (string, error) {
	return fmt.Sprintf("%s|%d|%x", class, v, secret), nil
}

func (m *memStore) Unwrap(_ context.Context, class string, r *kms.Ring) ([]*kms.Key, error) {
	var keys []*kms.Key
	for v, w := range r.Wrapped {
		prefix := class + "|" + strconv.FormatUint(uint64(v), 10) + "|"
		secret, err := hex.DecodeString(strings.TrimPrefix(w, prefix))
		if !strings.HasPrefix(w, prefix) || err != nil {
			return nil, fmt.Errorf("wrapped key of %s v%d does not belong there", class, v)
		}
		k, err := kms.NewKey(v, secret)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// memProvider is the smallest kms.Provider over Keyrings.
type memProvider struct {
	*kms.Keyrings
	store *memStore
}

func (p memProvider) Rewrap(ctx context.Context) (int, error) {
	n := 0
	for class := range p.store.rings {
		r, err := p.Update(ctx, class, func(r *kms.Ring) (*kms.Ring, error) { return r, nil })
		if err != nil {
			return n, err
		}
		n += len(r.Wrapped)
	}
	return n, nil
}

func (memProvider) Close() error { return nil }

func newMemProvider(s *memStore) memProvider {
	return memProvider{Keyrings: &kms.Keyrings{Store: s}, store: s}
}

// TestKeyringsConformance: the state machine alone passes the suite every
// provider runs.
func TestKeyringsConformance(t *testing.T) {
	kmstest.Run(t, func(t *testing.T) func() kms.Provider {
		s := newMemStore()
		return func() kms.Provider { return newMemProvider(s) }
	})
	kmstest.RunUnavailable(t, func(t *testing.T) (kms.Provider, func(), func()) {
		s := newMemStore()
		set := func(err error) func() {
			return func() { s.mu.Lock(); s.down = err; s.mu.Unlock() }
		}
		return newMemProvider(s), set(fmt.Errorf("%w: connection refused", kms.ErrUnavailable)), set(nil)
	})
}

// TestKeyringsConflicts: a compare-and-set conflict is retried up to
// Attempts times, and reported after that; nothing is half written.
func TestKeyringsConflicts(t *testing.T) {
	tests := []struct {
		name      string
		conflicts int
		wantErr   error
		wantCur   uint32
	}{
		{"retried", 2, nil, 2},
		{"given up", 3, kms.ErrConflict, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMemStore()
			k := &kms.Keyrings{Store: s, Attempts: 3}
			ctx := context.Background()
			if _, err := k.Keyring(ctx, "card"); err != nil {
				t.Fatal(err)
			}
			s.conflicts = tt.conflicts
			_, err := k.Rotate(ctx, "card")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Rotate with %d conflicts error = %v, want %v", tt.conflicts, err, tt.wantErr)
			}
			r, err := k.Keyring(ctx, "card")
			if err != nil || r.Current().Version() != tt.wantCur {
				t.Errorf("after Rotate current = %v (%v), want %d", r, err, tt.wantCur)
			}
		})
	}
}

// TestRingValidate: what no stored ring may be.
func TestRingValidate(t *testing.T) {
	tests := []struct {
		name string
		ring kms.Ring
		ok   bool
	}{
		{"fine", kms.Ring{Current: 2, MinDecrypt: 2, Wrapped: map[uint32]string{1: "a", 2: "b"}}, true},
		{"current missing", kms.Ring{Current: 3, Wrapped: map[uint32]string{1: "a"}}, false},
		{"min above current", kms.Ring{Current: 1, MinDecrypt: 2, Wrapped: map[uint32]string{1: "a"}}, false},
		{"version 0", kms.Ring{Current: 1, Wrapped: map[uint32]string{0: "z", 1: "a"}}, false},
	}
	for _, tt := range tests {
		if err := tt.ring.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
