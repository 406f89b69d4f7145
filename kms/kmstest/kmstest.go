// Package kmstest is the conformance suite every kms.Provider must pass.
package kmstest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/privacyvault/privacyvault/kms"
)

// Opener opens the provider under test. Calling it twice for the same test
// must give two providers over the same backing keyrings (as two sidecars
// or a restart would see). The suite closes what it opens.
type Opener func(t *testing.T) (open func() kms.Provider)

// Run runs the conformance suite.
func Run(t *testing.T, newBacking Opener) {
	t.Run("CreateOnFirstUse", func(t *testing.T) {
		p := openClosed(t, newBacking(t))
		r, err := p.Keyring(context.Background(), "email")
		if err != nil {
			t.Fatalf("Keyring(email) error = %v", err)
		}
		if got := r.Current().Version(); got != 1 {
			t.Errorf("Keyring(email).Current().Version() = %d, want 1", got)
		}
		if got := r.Versions(); len(got) != 1 {
			t.Errorf("Keyring(email).Versions() = %v, want [1]", got)
		}
	})
	t.Run("StableAcrossReopen", func(t *testing.T) {
		open := newBacking(t)
		a := openClosed(t, open)
		ra := mustKeyring(t, a, "email")
		b := openClosed(t, open)
		rb := mustKeyring(t, b, "email")
		if !bytes.Equal(ra.Current().Derive("x"), rb.Current().Derive("x")) {
			t.Error("second provider over the same backing sees a different key for email v1")
		}
	})
	t.Run("ClassesIndependent", func(t *testing.T) {
		p := openClosed(t, newBacking(t))
		a := mustKeyring(t, p, "email")
		b := mustKeyring(t, p, "phone")
		if bytes.Equal(a.Current().Derive("x"), b.Current().Derive("x")) {
			t.Error("classes email and phone share a data key")
		}
	})
	t.Run("Rotate", func(t *testing.T) {
		open := newBacking(t)
		p := openClosed(t, open)
		before := mustKeyring(t, p, "card")
		after, err := p.Rotate(context.Background(), "card")
		if err != nil {
			t.Fatalf("Rotate(card) error = %v", err)
		}
		if got := after.Current().Version(); got != 2 {
			t.Errorf("after Rotate Current().Version() = %d, want 2", got)
		}
		old, err := after.Key(1)
		if err != nil {
			t.Fatalf("after Rotate Key(1) error = %v", err)
		}
		if !bytes.Equal(old.Derive("x"), before.Current().Derive("x")) {
			t.Error("after Rotate version 1 changed")
		}
		if bytes.Equal(after.Current().Derive("x"), old.Derive("x")) {
			t.Error("Rotate produced the same key material as version 1")
		}
		other := mustKeyring(t, openClosed(t, open), "card")
		if got := other.Current().Version(); got != 2 {
			t.Errorf("another provider after Rotate sees current %d, want 2", got)
		}
	})
	t.Run("UnknownVersion", func(t *testing.T) {
		p := openClosed(t, newBacking(t))
		r := mustKeyring(t, p, "email")
		if _, err := r.Key(7); !errors.Is(err, kms.ErrUnknownVersion) {
			t.Errorf("Key(7) error = %v, want ErrUnknownVersion", err)
		}
	})
	t.Run("MinDecryptionVersion", func(t *testing.T) {
		open := newBacking(t)
		p := openClosed(t, open)
		mustKeyring(t, p, "ssn")
		if _, err := p.Rotate(context.Background(), "ssn"); err != nil {
			t.Fatalf("Rotate(ssn) error = %v", err)
		}
		r, err := p.SetMinDecryptionVersion(context.Background(), "ssn", 2)
		if err != nil {
			t.Fatalf("SetMinDecryptionVersion(ssn, 2) error = %v", err)
		}
		if _, err := r.Key(1); !errors.Is(err, kms.ErrRetiredVersion) {
			t.Errorf("after retire Key(1) error = %v, want ErrRetiredVersion", err)
		}
		if got := r.First().Version(); got != 1 {
			t.Errorf("after retire First().Version() = %d, want 1 (kept for derived keys)", got)
		}
		if got := mustKeyring(t, openClosed(t, open), "ssn").MinDecryptionVersion(); got != 2 {
			t.Errorf("another provider sees MinDecryptionVersion() = %d, want 2", got)
		}
		for _, v := range []uint32{0, 3} {
			if _, err := p.SetMinDecryptionVersion(context.Background(), "ssn", v); !errors.Is(err, kms.ErrInvalidVersion) {
				t.Errorf("SetMinDecryptionVersion(ssn, %d) error = %v, want ErrInvalidVersion", v, err)
			}
		}
	})
	t.Run("RewrapKeepsKeys", func(t *testing.T) {
		open := newBacking(t)
		p := openClosed(t, open)
		before := mustKeyring(t, p, "email").Current().Derive("x")
		if _, err := p.Rotate(context.Background(), "email"); err != nil {
			t.Fatal(err)
		}
		n, err := p.Rewrap(context.Background())
		if err != nil || n < 2 {
			t.Fatalf("Rewrap() = %d, %v; want at least 2 keys re-wrapped", n, err)
		}
		r := mustKeyring(t, openClosed(t, open), "email")
		k1, err := r.Key(1)
		if err != nil || !bytes.Equal(k1.Derive("x"), before) {
			t.Errorf("after Rewrap version 1 = changed or missing (%v)", err)
		}
	})
	t.Run("ConcurrentRotation", func(t *testing.T) {
		open := newBacking(t)
		p := openClosed(t, open)
		first := mustKeyring(t, p, "card")
		const rotations = 8
		var wg sync.WaitGroup
		errs := make([]error, rotations)
		for i := range rotations {
			wg.Go(func() { _, errs[i] = p.Rotate(context.Background(), "card") })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("concurrent Rotate(card) #%d error = %v", i, err)
			}
		}
		r := mustKeyring(t, openClosed(t, open), "card")
		if got, want := r.Versions(), rotations+1; len(got) != want || r.Current().Version() != uint32(want) {
			t.Fatalf("after %d concurrent rotations Versions() = %v, current %d; want 1 to %d", rotations, got, r.Current().Version(), want)
		}
		seen := map[string]uint32{}
		for _, v := range r.Versions() {
			k, err := r.Key(v)
			if err != nil {
				t.Fatalf("Key(%d) error = %v", v, err)
			}
			x := string(k.Derive("x"))
			if w, dup := seen[x]; dup {
				t.Errorf("versions %d and %d share key material", w, v)
			}
			seen[x] = v
		}
		if k1, _ := r.Key(1); k1 == nil || !bytes.Equal(k1.Derive("x"), first.Current().Derive("x")) {
			t.Error("concurrent rotations changed version 1")
		}
	})
	t.Run("DeriveLabels", func(t *testing.T) {
		p := openClosed(t, newBacking(t))
		k := mustKeyring(t, p, "email").Current()
		if bytes.Equal(k.Derive("aead"), k.Derive("index")) {
			t.Error("Derive(aead) = Derive(index); labels must separate keys")
		}
		if got := len(k.Derive("aead")); got != kms.KeySize {
			t.Errorf("len(Derive(aead)) = %d, want %d", got, kms.KeySize)
		}
	})
}

// Outage opens a provider under test and returns it with down, which
// makes its backing unreachable, and up, which ends that.
type Outage func(t *testing.T) (p kms.Provider, down, up func())

// RunUnavailable checks a provider whose backing becomes unreachable:
// every call fails with an error wrapping kms.ErrUnavailable, and once the
// backing is back the keyring is intact and changes work again.
// Providers that cannot become unavailable (a local file) do not run it.
func RunUnavailable(t *testing.T, outage Outage) {
	p, down, up := outage(t)
	t.Cleanup(func() { p.Close() })
	ctx := context.Background()
	before := mustKeyring(t, p, "email")
	down()
	calls := []struct {
		name string
		call func() error
	}{
		{"Keyring", func() error { _, err := p.Keyring(ctx, "email"); return err }},
		{"Rotate", func() error { _, err := p.Rotate(ctx, "email"); return err }},
		{"SetMinDecryptionVersion", func() error { _, err := p.SetMinDecryptionVersion(ctx, "email", 1); return err }},
		{"Rewrap", func() error { _, err := p.Rewrap(ctx); return err }},
	}
	for _, tt := range calls {
		if err := tt.call(); !errors.Is(err, kms.ErrUnavailable) {
			t.Errorf("%s while unavailable error = %v, want kms.ErrUnavailable", tt.name, err)
		}
	}
	up()
	after := mustKeyring(t, p, "email")
	if k1, err := after.Key(1); err != nil || !bytes.Equal(k1.Derive("x"), before.Current().Derive("x")) {
		t.Errorf("version 1 after the outage = changed or missing (%v)", err)
	}
	if _, err := p.Rotate(ctx, "email"); err != nil {
		t.Errorf("Rotate after the outage error = %v", err)
	}
}

func openClosed(t *testing.T, open func() kms.Provider) kms.Provider {
	p := open()
	t.Cleanup(func() { p.Close() })
	return p
}

func mustKeyring(t *testing.T, p kms.Provider, class string) *kms.Keyring {
	t.Helper()
	r, err := p.Keyring(context.Background(), class)
	if err != nil {
		t.Fatalf("Keyring(%s) error = %v", class, err)
	}
	return r
}
