package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	"github.com/hashicorp/vault/builtin/logical/transit"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/physical"
	"github.com/hashicorp/vault/sdk/physical/file"
	"github.com/hashicorp/vault/sdk/physical/inmem"
)

// Config configures a Server.
type Config struct {
	// RootToken is always accepted and never expires.
	RootToken string
	// DataDir holds file-backed storage; empty keeps everything in memory.
	DataDir string
	// AppRoleRoleID and AppRoleSecretID are the only credentials
	// auth/approle/login accepts. An empty role ID disables AppRole.
	AppRoleRoleID, AppRoleSecretID string
	// K8sRole and K8sJWT are the only role and JWT auth/kubernetes/login
	// accepts. An empty role disables Kubernetes login.
	K8sRole, K8sJWT string
	// TokenTTL is the TTL of tokens issued by login and renewal.
	TokenTTL time.Duration
	// TokenMaxTTL caps the lifetime of a login token across renewals.
	TokenMaxTTL time.Duration
	// Logger receives the engines' logs; nil discards them.
	Logger hclog.Logger
}

// mount is one secrets engine with its own storage view.
type mount struct {
	path    string // "transit/"
	typ     string // "transit"
	backend logical.Backend
	storage logical.Storage
	options map[string]string
}

// Server is the HTTP front. It implements http.Handler.
type Server struct {
	cfg    Config
	mounts []*mount
	tokens *tokenStore
	once   sync.Once
}

// Stable mount UUIDs: KV v2 prefixes its storage with the backend UUID, so
// it must not change across restarts over the same data directory.
const (
	transitUUID = "6a0c1b8e-2f4d-4c1e-9a57-000000000001"
	kvUUID      = "6a0c1b8e-2f4d-4c1e-9a57-000000000002"
)

// NewServer mounts Transit at transit/ and KV v2 at secret/ and initializes
// both. ctx bounds the engines' background work and must live as long as
// the server.
func NewServer(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.TokenMaxTTL < cfg.TokenTTL {
		cfg.TokenMaxTTL = cfg.TokenTTL
	}
	var phys physical.Backend
	var err error
	if cfg.DataDir == "" {
		phys, err = inmem.NewInmem(nil, cfg.Logger)
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, err
		}
		phys, err = file.NewFileBackend(map[string]string{"path": cfg.DataDir}, cfg.Logger)
	}
	if err != nil {
		return nil, err
	}
	root := logical.NewLogicalStorage(phys)
	s := &Server{cfg: cfg, tokens: newTokenStore(cfg.RootToken, cfg.TokenTTL, cfg.TokenMaxTTL)}
	specs := []struct {
		path, typ, uuid string
		factory         logical.Factory
		options         map[string]string
	}{
		{"transit/", "transit", transitUUID, transit.Factory, map[string]string{}},
		{"secret/", "kv", kvUUID, kv.VersionedKVFactory, map[string]string{"version": "2"}},
	}
	for _, sp := range specs {
		view := logical.NewStorageView(root, "logical/"+sp.uuid+"/")
		b, err := sp.factory(ctx, &logical.BackendConfig{
			StorageView: view,
			Logger:      cfg.Logger.Named(sp.typ),
			System:      logical.TestSystemView(),
			BackendUUID: sp.uuid,
			Config:      sp.options,
		})
		if err != nil {
			return nil, fmt.Errorf("mount %s: %w", sp.path, err)
		}
		if err := b.Initialize(ctx, &logical.InitializationRequest{Storage: view}); err != nil {
			return nil, fmt.Errorf("initialize %s: %w", sp.path, err)
		}
		s.mounts = append(s.mounts, &mount{path: sp.path, typ: sp.typ, backend: b, storage: view, options: sp.options})
	}
	if err := s.waitKVReady(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// waitKVReady waits for KV v2's first-start upgrade, which runs in the
// background and rejects requests until it is done.
func (s *Server) waitKVReady(ctx context.Context) error {
	m := s.mountFor("secret/config")
	deadline := time.Now().Add(30 * time.Second)
	for {
		req := &logical.Request{Operation: logical.ReadOperation, Path: "config", Storage: m.storage, MountPoint: m.path, MountType: m.typ}
		_, err := m.backend.HandleRequest(ctx, req)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("KV v2 engine not ready: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close stops the engines' background work.
func (s *Server) Close() {
	s.once.Do(func() {
		for _, m := range s.mounts {
			m.backend.Cleanup(context.Background())
		}
	})
}

func (s *Server) mountFor(path string) *mount {
	for _, m := range s.mounts {
		if strings.HasPrefix(path, m.path) || path+"/" == m.path {
			return m
		}
	}
	return nil
}

// ServeHTTP routes /v1/ requests to the emulated system and auth endpoints
// or to a mounted engine.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		respondError(w, http.StatusNotFound, errors.New("unsupported path"))
		return
	}
	switch path {
	case "sys/health":
		s.health(w, r)
		return
	case "auth/approle/login":
		s.appRoleLogin(w, r)
		return
	case "auth/kubernetes/login":
		s.kubernetesLogin(w, r)
		return
	}
	token := requestToken(r)
	entry, ok := s.tokens.lookup(token)
	if !ok {
		respondError(w, http.StatusForbidden, errors.New("permission denied"))
		return
	}
	switch {
	case path == "auth/token/lookup-self":
		s.lookupSelf(w, r, token, entry)
	case path == "auth/token/renew-self":
		s.renewSelf(w, r, token)
	case strings.HasPrefix(path, "sys/internal/ui/mounts/"):
		s.mountInfo(w, strings.TrimPrefix(path, "sys/internal/ui/mounts/"))
	default:
		m := s.mountFor(path)
		if m == nil {
			respondError(w, http.StatusNotFound, fmt.Errorf("no handler for route %q: route entry not found", path))
			return
		}
		s.handleLogical(w, r, m, path, token)
	}
}

// requestToken returns the client token from X-Vault-Token or a bearer
// Authorization header.
func requestToken(r *http.Request) string {
	if t := r.Header.Get("X-Vault-Token"); t != "" {
		return t
	}
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return t
	}
	return ""
}

func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
