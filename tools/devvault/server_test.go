package main

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// start serves a fresh Server and returns a Vault client logged in as root.
func start(t *testing.T, cfg Config) (*api.Client, *Server) {
	t.Helper()
	if cfg.RootToken == "" {
		cfg.RootToken = "test-root"
	}
	srv, err := NewServer(t.Context(), cfg)
	if err != nil {
		t.Fatalf("NewServer() error = %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return newClient(t, hs.URL, cfg.RootToken), srv
}

func newClient(t *testing.T, addr, token string) *api.Client {
	t.Helper()
	conf := api.DefaultConfig()
	conf.Address = addr
	conf.MaxRetries = 0
	c, err := api.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

func statusOf(err error) int {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

func TestTransit(t *testing.T) {
	c, _ := start(t, Config{})
	l := c.Logical()
	if _, err := l.Write("transit/keys/kek", nil); err != nil {
		t.Fatalf("create key: %v", err)
	}
	pt := base64.StdEncoding.EncodeToString([]byte("data key"))
	enc, err := l.Write("transit/encrypt/kek", map[string]any{"plaintext": pt})
	if err != nil {
		t.Fatalf("encrypt: %v", err)
	}
	ct := enc.Data["ciphertext"].(string)
	if !strings.HasPrefix(ct, "vault:v1:") {
		t.Fatalf("ciphertext = %q, want vault:v1: prefix", ct)
	}
	if _, err := l.Write("transit/keys/kek/rotate", nil); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	rw, err := l.Write("transit/rewrap/kek", map[string]any{"ciphertext": ct})
	if err != nil {
		t.Fatalf("rewrap: %v", err)
	}
	ct2 := rw.Data["ciphertext"].(string)
	if !strings.HasPrefix(ct2, "vault:v2:") {
		t.Fatalf("rewrapped ciphertext = %q, want vault:v2: prefix", ct2)
	}
	for _, c := range []string{ct, ct2} {
		dec, err := l.Write("transit/decrypt/kek", map[string]any{"ciphertext": c})
		if err != nil {
			t.Fatalf("decrypt: %v", err)
		}
		if got := dec.Data["plaintext"]; got != pt {
			t.Errorf("decrypt = %v, want %v", got, pt)
		}
	}
	_, err = l.Write("transit/decrypt/kek", map[string]any{"ciphertext": "vault:v1:AAAA"})
	if statusOf(err) != http.StatusBadRequest {
		t.Errorf("decrypt garbage: error = %v, want HTTP 400", err)
	}
}

func TestKVv2CheckAndSet(t *testing.T) {
	c, _ := start(t, Config{})
	ctx := context.Background()
	kv := c.KVv2("secret")
	if _, err := kv.Put(ctx, "app/ring", map[string]any{"v": "1"}, api.WithCheckAndSet(0)); err != nil {
		t.Fatalf("put cas=0: %v", err)
	}
	_, err := kv.Put(ctx, "app/ring", map[string]any{"v": "x"}, api.WithCheckAndSet(0))
	if statusOf(err) != http.StatusBadRequest || !strings.Contains(err.Error(), "check-and-set") {
		t.Fatalf("put stale cas: error = %v, want HTTP 400 check-and-set", err)
	}
	if _, err := kv.Put(ctx, "app/ring", map[string]any{"v": "2"}, api.WithCheckAndSet(1)); err != nil {
		t.Fatalf("put cas=1: %v", err)
	}
	s, err := kv.Get(ctx, "app/ring")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if s.Data["v"] != "2" || s.VersionMetadata.Version != 2 {
		t.Errorf("get = %v version %d, want v=2 version 2", s.Data, s.VersionMetadata.Version)
	}
	list, err := c.Logical().List("secret/metadata/app")
	if err != nil || list == nil {
		t.Fatalf("list: %v, %v", list, err)
	}
	if keys := list.Data["keys"].([]any); len(keys) != 1 || keys[0] != "ring" {
		t.Errorf("list keys = %v, want [ring]", keys)
	}
	if s, err := c.Logical().Read("secret/data/absent"); s != nil || err != nil {
		t.Errorf("read absent = %v, %v; want nil, nil", s, err)
	}
}

func TestBadToken(t *testing.T) {
	c, _ := start(t, Config{})
	c.SetToken("wrong")
	_, err := c.Logical().Read("secret/data/x")
	if statusOf(err) != http.StatusForbidden {
		t.Errorf("read with bad token: error = %v, want HTTP 403", err)
	}
}

func TestTokenSelf(t *testing.T) {
	c, _ := start(t, Config{AppRoleRoleID: "role", AppRoleSecretID: "secret", TokenTTL: time.Minute})
	s, err := c.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatalf("lookup-self root: %v", err)
	}
	if r, _ := s.TokenIsRenewable(); r {
		t.Error("root token reported renewable")
	}
	login, err := c.Logical().Write("auth/approle/login", map[string]any{"role_id": "role", "secret_id": "secret"})
	if err != nil || login.Auth == nil {
		t.Fatalf("approle login: %v, %v", login, err)
	}
	if !login.Auth.Renewable || login.Auth.LeaseDuration != 60 {
		t.Errorf("login auth renewable=%v ttl=%d, want true 60", login.Auth.Renewable, login.Auth.LeaseDuration)
	}
	c.SetToken(login.Auth.ClientToken)
	if _, err := c.Logical().Write("transit/keys/k", nil); err != nil {
		t.Fatalf("derived token rejected: %v", err)
	}
	r, err := c.Auth().Token().RenewSelf(30)
	if err != nil || r.Auth == nil || r.Auth.LeaseDuration != 30 {
		t.Fatalf("renew-self = %v, %v; want lease 30", r, err)
	}
	c.SetToken("")
	_, err = c.Logical().Write("auth/approle/login", map[string]any{"role_id": "role", "secret_id": "nope"})
	if statusOf(err) != http.StatusBadRequest {
		t.Errorf("approle bad secret: error = %v, want HTTP 400", err)
	}
}

func TestKubernetesLogin(t *testing.T) {
	c, _ := start(t, Config{K8sRole: "sidecar", K8sJWT: "jwt-1"})
	c.SetToken("")
	s, err := c.Logical().Write("auth/kubernetes/login", map[string]any{"role": "sidecar", "jwt": "jwt-1"})
	if err != nil || s.Auth == nil || s.Auth.ClientToken == "" {
		t.Fatalf("kubernetes login = %v, %v", s, err)
	}
	_, err = c.Logical().Write("auth/kubernetes/login", map[string]any{"role": "sidecar", "jwt": "jwt-2"})
	if statusOf(err) != http.StatusForbidden {
		t.Errorf("kubernetes bad jwt: error = %v, want HTTP 403", err)
	}
}

func TestFileStorageSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	c, srv := start(t, Config{DataDir: dir})
	if _, err := c.Logical().Write("transit/keys/kek", nil); err != nil {
		t.Fatal(err)
	}
	enc, err := c.Logical().Write("transit/encrypt/kek", map[string]any{"plaintext": "AAAA"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.KVv2("secret").Put(context.Background(), "k", map[string]any{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	c2, _ := start(t, Config{DataDir: dir})
	dec, err := c2.Logical().Write("transit/decrypt/kek", map[string]any{"ciphertext": enc.Data["ciphertext"]})
	if err != nil || dec.Data["plaintext"] != "AAAA" {
		t.Errorf("decrypt after restart = %v, %v", dec, err)
	}
	s, err := c2.KVv2("secret").Get(context.Background(), "k")
	if err != nil || s.Data["a"] != "b" {
		t.Errorf("kv get after restart = %v, %v", s, err)
	}
}
