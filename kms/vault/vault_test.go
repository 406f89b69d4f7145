package vault_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/internal/devvaulttest"
	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/kms/kmstest"
	"github.com/privacyvault/privacyvault/kms/vault"
)

var prefixSeq atomic.Int64

// uniquePrefix gives each test backing its own KV folder on a shared
// devvault.
func uniquePrefix() string {
	return fmt.Sprintf("pv-test-%d-%d", time.Now().UnixNano(), prefixSeq.Add(1))
}

func rootConfig(dv *devvaulttest.DevVault, prefix string) vault.Config {
	return vault.Config{
		Address:   dv.Addr,
		Auth:      vault.AuthConfig{Method: vault.AuthToken, Token: dv.Token},
		CreateKEK: true,
		KVPrefix:  prefix,
		Timeout:   3 * time.Second,
	}
}

func mustOpen(t *testing.T, cfg vault.Config) *vault.Provider {
	t.Helper()
	p, err := vault.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatalf("vault.Open() error = %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cred")
	if err := os.WriteFile(path, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConformance(t *testing.T) {
	dv := devvaulttest.Start(t)
	kmstest.Run(t, func(t *testing.T) func() kms.Provider {
		cfg := rootConfig(dv, uniquePrefix())
		return func() kms.Provider {
			p, err := vault.Open(context.Background(), cfg, nil)
			if err != nil {
				t.Fatalf("vault.Open() error = %v", err)
			}
			return p
		}
	})
}

func TestConformanceUnavailable(t *testing.T) {
	kmstest.RunUnavailable(t, func(t *testing.T) (kms.Provider, func(), func()) {
		dv := devvaulttest.Start(t)
		cfg := rootConfig(dv, uniquePrefix())
		cfg.Timeout = time.Second
		return mustOpen(t, cfg), func() { dv.Pause(t) }, func() { dv.Resume(t) }
	})
}

func TestConcurrentRotationLosesNoVersion(t *testing.T) {
	dv := devvaulttest.Start(t)
	cfg := rootConfig(dv, uniquePrefix())
	a, b := mustOpen(t, cfg), mustOpen(t, cfg)
	ctx := context.Background()
	first, err := a.Keyring(ctx, "card")
	if err != nil {
		t.Fatal(err)
	}
	const perProvider = 8
	var mu sync.Mutex
	seen := map[uint32][]byte{1: first.Current().Derive("x")}
	var wg sync.WaitGroup
	errs := make(chan error, 2*perProvider)
	for _, p := range []*vault.Provider{a, b} {
		wg.Go(func() {
			for range perProvider {
				r, err := p.Rotate(ctx, "card")
				if err != nil {
					errs <- err
					return
				}
				k := r.Current()
				mu.Lock()
				if _, dup := seen[k.Version()]; dup {
					errs <- fmt.Errorf("version %d handed out twice", k.Version())
				}
				seen[k.Version()] = k.Derive("x")
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	final, err := mustOpen(t, cfg).Keyring(ctx, "card")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := final.Current().Version(), uint32(1+2*perProvider); got != want {
		t.Errorf("final current version = %d, want %d", got, want)
	}
	if got := len(final.Versions()); got != 1+2*perProvider {
		t.Errorf("final keyring holds %d versions, want %d", got, 1+2*perProvider)
	}
	for v, want := range seen {
		k, err := final.Key(v)
		if err != nil {
			t.Errorf("final Key(%d) error = %v", v, err)
			continue
		}
		if !bytes.Equal(k.Derive("x"), want) {
			t.Errorf("version %d changed after concurrent rotation", v)
		}
	}
}

func TestKEKRotationAndRewrap(t *testing.T) {
	dv := devvaulttest.Start(t)
	cfg := rootConfig(dv, uniquePrefix())
	p := mustOpen(t, cfg)
	ctx := context.Background()
	before := map[string][]byte{}
	if _, err := p.Keyring(ctx, "email"); err != nil {
		t.Fatal(err)
	}
	for _, class := range []string{"email", "phone"} {
		if _, err := p.Rotate(ctx, class); err != nil {
			t.Fatal(err)
		}
	}
	for _, class := range []string{"email", "phone"} {
		r, err := p.Keyring(ctx, class)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range r.Versions() {
			k, _ := r.Key(v)
			before[fmt.Sprintf("%s/%d", class, v)] = k.Derive("x")
		}
	}
	admin := dv.Client(t)
	kek := "transit/keys/" + vault.DefaultKEKName
	if _, err := admin.Logical().Write(kek+"/rotate", nil); err != nil {
		t.Fatalf("rotate Transit key: %v", err)
	}
	n, err := p.Rewrap(ctx)
	if err != nil || n != 3 {
		t.Fatalf("Rewrap() = %d, %v; want 3, nil", n, err)
	}
	for _, class := range []string{"email", "phone"} {
		s, err := admin.Logical().Read("secret/data/" + cfg.KVPrefix + "/keyrings/" + class)
		if err != nil || s == nil {
			t.Fatalf("read stored keyring %s: %v", class, err)
		}
		versions := s.Data["data"].(map[string]any)["versions"].(map[string]any)
		for v, ct := range versions {
			if !strings.HasPrefix(ct.(string), "vault:v2:") {
				t.Errorf("%s version %s stored as %.12s..., want vault:v2:", class, v, ct)
			}
		}
	}
	// Retire KEK version 1 in Transit: the keyrings must no longer need it.
	if _, err := admin.Logical().Write(kek+"/config", map[string]any{"min_decryption_version": 2}); err != nil {
		t.Fatalf("set Transit min_decryption_version: %v", err)
	}
	q := mustOpen(t, cfg)
	for _, class := range []string{"email", "phone"} {
		r, err := q.Keyring(ctx, class)
		if err != nil {
			t.Fatalf("Keyring(%s) after rewrap error = %v", class, err)
		}
		for _, v := range r.Versions() {
			k, _ := r.Key(v)
			if !bytes.Equal(k.Derive("x"), before[fmt.Sprintf("%s/%d", class, v)]) {
				t.Errorf("%s version %d changed across rewrap", class, v)
			}
		}
	}
}

func TestWrappedKeyBoundToClassAndVersion(t *testing.T) {
	dv := devvaulttest.Start(t)
	cfg := rootConfig(dv, uniquePrefix())
	p := mustOpen(t, cfg)
	ctx := context.Background()
	for _, class := range []string{"email", "phone"} {
		if _, err := p.Keyring(ctx, class); err != nil {
			t.Fatal(err)
		}
	}
	kv := dv.Client(t).KVv2("secret")
	src, err := kv.Get(ctx, cfg.KVPrefix+"/keyrings/email")
	if err != nil {
		t.Fatal(err)
	}
	// Copy email's wrapped v1 into phone's v1 slot.
	if _, err := kv.Put(ctx, cfg.KVPrefix+"/keyrings/phone", src.Data); err != nil {
		t.Fatal(err)
	}
	_, err = p.Keyring(ctx, "phone")
	if err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("Keyring(phone) with email's wrapped key: error = %v, want a binding error", err)
	}
}

func TestAppRoleLogin(t *testing.T) {
	dv := devvaulttest.Start(t, "-approle-role-id", "pv-role", "-approle-secret-id", "s3cret-id-value")
	cfg := rootConfig(dv, uniquePrefix())
	cfg.Auth = vault.AuthConfig{Method: vault.AuthAppRole, RoleID: "pv-role", SecretIDFile: writeFile(t, "s3cret-id-value")}
	var logs devvaulttest.SyncBuffer
	p, err := vault.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("Open(approle) error = %v", err)
	}
	defer p.Close()
	if _, err := p.Keyring(context.Background(), "email"); err != nil {
		t.Fatalf("Keyring after AppRole login error = %v", err)
	}
	token := vault.ClientToken(p)
	if s := logs.String(); strings.Contains(s, "s3cret-id-value") || strings.Contains(s, token) {
		t.Errorf("logs contain the secret_id or the token:\n%s", s)
	}

	cfg.Auth.SecretIDFile = writeFile(t, "wrong-secret")
	_, err = vault.Open(context.Background(), cfg, nil)
	if err == nil {
		t.Fatal("Open(approle, bad secret_id) succeeded")
	}
	t.Logf("Open(approle, bad secret_id) error: %v", err)
	if !strings.Contains(err.Error(), "approle login") || !strings.Contains(err.Error(), "invalid role or secret ID") {
		t.Errorf("Open(approle, bad secret_id) error = %q, want it to name the approle login and Vault's reason", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") || errors.Is(err, kms.ErrUnavailable) {
		t.Errorf("Open(approle, bad secret_id) error = %q: leaks the secret or claims unavailability", err)
	}
}

func TestKubernetesLogin(t *testing.T) {
	dv := devvaulttest.Start(t, "-k8s-role", "pv-sidecar", "-k8s-jwt", "eyJ.sa-token.sig")
	cfg := rootConfig(dv, uniquePrefix())
	cfg.Auth = vault.AuthConfig{Method: vault.AuthKubernetes, Role: "pv-sidecar", JWTFile: writeFile(t, "eyJ.sa-token.sig")}
	p := mustOpen(t, cfg)
	if _, err := p.Keyring(context.Background(), "email"); err != nil {
		t.Fatalf("Keyring after Kubernetes login error = %v", err)
	}
	cfg.Auth.JWTFile = writeFile(t, "eyJ.other.sig")
	_, err := vault.Open(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "kubernetes login") || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("Open(kubernetes, bad JWT) error = %v, want a kubernetes login permission denied", err)
	}
	if err != nil && strings.Contains(err.Error(), "eyJ.other.sig") {
		t.Errorf("error leaks the JWT: %v", err)
	}
}

func TestTokenFileAndBadToken(t *testing.T) {
	dv := devvaulttest.Start(t)
	cfg := rootConfig(dv, uniquePrefix())
	cfg.Auth = vault.AuthConfig{Method: vault.AuthToken, TokenFile: writeFile(t, dv.Token)}
	p := mustOpen(t, cfg)
	if _, err := p.Keyring(context.Background(), "email"); err != nil {
		t.Fatal(err)
	}
	cfg.Auth = vault.AuthConfig{Token: "not-a-token"}
	_, err := vault.Open(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "permission denied") || strings.Contains(err.Error(), "not-a-token") {
		t.Errorf("Open(bad token) error = %v, want permission denied without the token", err)
	}
}

func TestMissingKEKNotCreated(t *testing.T) {
	dv := devvaulttest.Start(t)
	cfg := rootConfig(dv, uniquePrefix())
	cfg.CreateKEK = false
	_, err := vault.Open(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Open without the Transit key and CreateKEK=false: error = %v, want not found", err)
	}
}

func TestReloginWhenLeaseEnds(t *testing.T) {
	dv := devvaulttest.Start(t, "-approle-role-id", "r", "-approle-secret-id", "s", "-token-ttl", "2s", "-token-max-ttl", "3s")
	cfg := rootConfig(dv, uniquePrefix())
	cfg.Auth = vault.AuthConfig{Method: vault.AuthAppRole, RoleID: "r", SecretIDFile: writeFile(t, "s")}
	p := mustOpen(t, cfg)
	first := vault.ClientToken(p)
	deadline := time.Now().Add(15 * time.Second)
	for vault.ClientToken(p) == first {
		if time.Now().After(deadline) {
			t.Fatal("token was not replaced within 15s although its max TTL is 3s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(4 * time.Second) // the first token has certainly expired now
	if _, err := p.Keyring(context.Background(), "email"); err != nil {
		t.Errorf("Keyring after re-login error = %v", err)
	}
}

func TestRenewableTokenIsRenewed(t *testing.T) {
	dv := devvaulttest.Start(t, "-approle-role-id", "r", "-approle-secret-id", "s", "-token-ttl", "2s", "-token-max-ttl", "1m")
	cfg := rootConfig(dv, uniquePrefix())
	cfg.Auth = vault.AuthConfig{Method: vault.AuthAppRole, RoleID: "r", SecretIDFile: writeFile(t, "s")}
	p := mustOpen(t, cfg)
	first := vault.ClientToken(p)
	time.Sleep(5 * time.Second) // beyond the 2s TTL: only renewals keep the token alive
	if got := vault.ClientToken(p); got != first {
		t.Error("token replaced although it could be renewed")
	}
	admin := dv.Client(t)
	admin.SetToken(first)
	if _, err := admin.Auth().Token().LookupSelf(); err != nil {
		t.Errorf("first token no longer valid after 5s with a 2s TTL: %v", err)
	}
}

func TestRestartedVaultKeepsKeysAndLogsInAgain(t *testing.T) {
	dir := t.TempDir()
	args := []string{"-data-dir", dir, "-approle-role-id", "r", "-approle-secret-id", "s"}
	dv := devvaulttest.Start(t, args...)
	cfg := rootConfig(dv, uniquePrefix())
	cfg.Auth = vault.AuthConfig{Method: vault.AuthAppRole, RoleID: "r", SecretIDFile: writeFile(t, "s")}
	p := mustOpen(t, cfg)
	ctx := context.Background()
	before, err := p.Keyring(ctx, "email")
	if err != nil {
		t.Fatal(err)
	}
	dv.Kill()
	host := strings.TrimPrefix(dv.Addr, "http://")
	devvaulttest.Start(t, append(args, "-addr", host)...) // same port, same data, tokens forgotten
	after, err := p.Keyring(ctx, "email")
	if err != nil {
		t.Fatalf("Keyring after Vault restart error = %v", err)
	}
	if !bytes.Equal(before.Current().Derive("x"), after.Current().Derive("x")) {
		t.Error("data key changed across a Vault restart with file storage")
	}
}

func TestUnreachableFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	ln.Close()
	start := time.Now()
	_, err = vault.Open(context.Background(), vault.Config{
		Address: addr, Auth: vault.AuthConfig{Token: "x"}, Timeout: 2 * time.Second,
	}, nil)
	elapsed := time.Since(start)
	if !errors.Is(err, kms.ErrUnavailable) {
		t.Fatalf("Open(unreachable) error = %v, want kms.ErrUnavailable", err)
	}
	t.Logf("Open(unreachable) error after %s: %v", elapsed.Round(time.Millisecond), err)
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("Open(unreachable) error = %q, want it to name %s", err, addr)
	}
	if elapsed > 3*time.Second {
		t.Errorf("Open(unreachable) took %s, want at most the 2s timeout", elapsed)
	}
}

func TestOutage(t *testing.T) {
	dv := devvaulttest.Start(t)
	cfg := rootConfig(dv, uniquePrefix())
	cfg.Timeout = time.Second
	p := mustOpen(t, cfg)
	ctx := context.Background()
	want, err := p.Keyring(ctx, "email")
	if err != nil {
		t.Fatal(err)
	}
	dv.Pause(t)
	for name, call := range map[string]func() error{
		"Keyring": func() error { _, err := p.Keyring(ctx, "email"); return err },
		"Rotate":  func() error { _, err := p.Rotate(ctx, "email"); return err },
	} {
		start := time.Now()
		err := call()
		elapsed := time.Since(start)
		t.Logf("%s during outage after %s: %v", name, elapsed.Round(time.Millisecond), err)
		if !errors.Is(err, kms.ErrUnavailable) {
			t.Errorf("%s during outage error = %v, want kms.ErrUnavailable", name, err)
		} else if !strings.Contains(err.Error(), dv.Addr) {
			t.Errorf("%s during outage error = %q, want it to name %s", name, err, dv.Addr)
		}
		if elapsed > 3*time.Second {
			t.Errorf("%s during outage took %s, want about the 1s timeout", name, elapsed)
		}
	}
	dv.Resume(t)
	got, err := p.Keyring(ctx, "email")
	if err != nil {
		t.Fatalf("Keyring after outage error = %v", err)
	}
	// A Rotate sent during the outage may still be served after it (its
	// bytes wait in the socket buffer), so only version 1 must be intact.
	v1, err := got.Key(1)
	if err != nil || !bytes.Equal(v1.Derive("x"), want.Current().Derive("x")) {
		t.Errorf("version 1 changed across the outage (%v)", err)
	}
	if _, err := p.Rotate(ctx, "email"); err != nil {
		t.Errorf("Rotate after outage error = %v", err)
	}
}
