package core

import (
	"context"
	"fmt"
	"time"

	"github.com/privacyvault/privacyvault/kms"
)

// Refresh fetches every class's keyring from the key provider and installs
// any that changed (a rotation or retirement made by another sidecar). On
// success it restarts the grace period.
func (s *registry) Refresh(ctx context.Context) (err error) {
	if s.obs != nil {
		var done func(error)
		ctx, done = s.obs.Refresh(ctx)
		defer func() { done(err) }()
	}
	for name, sl := range s.classes {
		ring, err := s.keys.Keyring(ctx, name)
		if err != nil {
			return fmt.Errorf("core: keyring for class %s: %w", name, err)
		}
		if _, err := sl.install(ring); err != nil {
			return fmt.Errorf("core: class %s: %w", name, err)
		}
	}
	s.lastSync.Store(s.now().UnixNano())
	return nil
}

// RefreshEvery calls Refresh every interval until ctx ends, logging
// failures: the data plane keeps serving from cached keys meanwhile, for
// up to the grace period.
func (s *registry) RefreshEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.Refresh(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("key refresh failed; serving from cached keys", "error", err,
				"grace_remaining", s.graceRemaining().String())
			failing = true
		case err == nil && failing:
			s.log.Info("key refresh recovered")
			failing = false
		}
	}
}

// reload fetches one class's keyring now, for a record that names a key
// version this sidecar has not cached yet.
func (s *registry) reload(ctx context.Context, class string) (*class, error) {
	return s.classes[class].reload(ctx, func(ctx context.Context) (*kms.Keyring, error) {
		ring, err := s.keys.Keyring(ctx, class)
		if err != nil {
			return nil, fmt.Errorf("core: keyring for class %s: %w", class, err)
		}
		return ring, nil
	})
}

// keysFresh reports ErrKeysStale once the provider has been unreachable
// for longer than the grace period.
// KeysFresh returns ErrKeysStale when the key provider has not been
// reached for longer than the grace period, so data calls fail; health
// reports it.
func (s *registry) KeysFresh() error { return s.keysFresh() }

func (s *registry) keysFresh() error {
	if s.grace > 0 && s.graceRemaining() <= 0 {
		return ErrKeysStale
	}
	return nil
}

func (s *registry) graceRemaining() time.Duration {
	if s.grace <= 0 {
		return 0
	}
	return s.grace - s.now().Sub(time.Unix(0, s.lastSync.Load()))
}
