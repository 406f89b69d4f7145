package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-secure-stdlib/parseutil"
)

// tokenEntry is one token the server accepts.
type tokenEntry struct {
	accessor string
	path     string    // login path that issued it; "auth/token/root" for root
	role     string    // role that logged in
	issued   time.Time // zero for the root token
	expires  time.Time // zero: never
	maxEnd   time.Time // renewals never extend past this
	policies []string
}

// root reports whether the entry is the root token.
func (e *tokenEntry) root() bool { return e.expires.IsZero() }

// tokenStore holds the root token and tokens issued by login. Tokens are in
// memory only: a restarted server accepts the root token alone.
type tokenStore struct {
	mu     sync.Mutex
	root   string
	ttl    time.Duration
	maxTTL time.Duration
	tokens map[string]*tokenEntry
	now    func() time.Time
}

func newTokenStore(root string, ttl, maxTTL time.Duration) *tokenStore {
	return &tokenStore{root: root, ttl: ttl, maxTTL: maxTTL, tokens: map[string]*tokenEntry{}, now: time.Now}
}

// lookup returns a copy of token's entry if the token is valid.
func (ts *tokenStore) lookup(token string) (tokenEntry, bool) {
	if token == "" {
		return tokenEntry{}, false
	}
	if equalSecret(token, ts.root) {
		return tokenEntry{accessor: "root", path: "auth/token/root", policies: []string{"root"}}, true
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	e, ok := ts.tokens[token]
	if !ok {
		return tokenEntry{}, false
	}
	if !ts.now().Before(e.expires) {
		delete(ts.tokens, token)
		return tokenEntry{}, false
	}
	return *e, true
}

// issue creates a renewable service token for a login on path by role.
func (ts *tokenStore) issue(path, role string) (string, tokenEntry) {
	now := ts.now()
	e := &tokenEntry{
		accessor: randomID(),
		path:     path,
		role:     role,
		issued:   now,
		expires:  now.Add(ts.ttl),
		maxEnd:   now.Add(ts.maxTTL),
		policies: []string{"default"},
	}
	token := "hvs." + randomID()
	ts.mu.Lock()
	ts.tokens[token] = e
	ts.mu.Unlock()
	return token, *e
}

// renew extends token by increment (0: the default TTL), never past its
// maximum lifetime, and returns the new TTL.
func (ts *tokenStore) renew(token string, increment time.Duration) (tokenEntry, time.Duration, error) {
	if equalSecret(token, ts.root) {
		return tokenEntry{}, 0, errors.New("root token has no TTL and is not renewable")
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	e, ok := ts.tokens[token]
	now := ts.now()
	if !ok || !now.Before(e.expires) {
		return tokenEntry{}, 0, errors.New("permission denied")
	}
	if increment <= 0 {
		increment = ts.ttl
	}
	end := now.Add(increment)
	if end.After(e.maxEnd) {
		end = e.maxEnd
	}
	e.expires = end
	return *e, end.Sub(now), nil
}

func randomID() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ttl returns the seconds left on e at now, 0 for the root token.
func (e *tokenEntry) ttl(now time.Time) int {
	if e.root() {
		return 0
	}
	return int(e.expires.Sub(now).Round(time.Second) / time.Second)
}

// authBlock is the "auth" object of a login or renewal response.
func authBlock(token string, e tokenEntry, ttl int) map[string]any {
	return map[string]any{
		"client_token":   token,
		"accessor":       e.accessor,
		"policies":       e.policies,
		"token_policies": e.policies,
		"metadata":       map[string]string{"role": e.role},
		"lease_duration": ttl,
		"renewable":      !e.root(),
		"entity_id":      "",
		"token_type":     "service",
		"orphan":         true,
	}
}

// health answers GET /v1/sys/health for an unsealed active node.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	respondJSON(w, http.StatusOK, map[string]any{
		"initialized":     true,
		"sealed":          false,
		"standby":         false,
		"version":         "1.21.4+devvault",
		"cluster_name":    "devvault",
		"server_time_utc": time.Now().Unix(),
	})
}

// lookupSelf answers auth/token/lookup-self.
func (s *Server) lookupSelf(w http.ResponseWriter, r *http.Request, token string, e tokenEntry) {
	now := time.Now()
	data := map[string]any{
		"id":               token,
		"accessor":         e.accessor,
		"path":             e.path,
		"policies":         e.policies,
		"display_name":     strings.TrimSuffix(strings.TrimPrefix(e.path, "auth/"), "/login"),
		"meta":             map[string]string{"role": e.role},
		"ttl":              e.ttl(now),
		"creation_ttl":     0,
		"explicit_max_ttl": 0,
		"renewable":        !e.root(),
		"type":             "service",
		"orphan":           true,
		"num_uses":         0,
		"expire_time":      nil,
		"issue_time":       nil,
	}
	if !e.root() {
		data["creation_ttl"] = int(s.cfg.TokenTTL / time.Second)
		data["expire_time"] = e.expires.UTC().Format(time.RFC3339Nano)
		data["issue_time"] = e.issued.UTC().Format(time.RFC3339Nano)
	}
	respondJSON(w, http.StatusOK, map[string]any{"data": data, "warnings": nil})
}

// renewSelf answers auth/token/renew-self with an optional "increment"
// (seconds or a duration string).
func (s *Server) renewSelf(w http.ResponseWriter, r *http.Request, token string) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		respondError(w, http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed", r.Method))
		return
	}
	data, err := parseJSON(r.Body)
	if err != nil {
		respondError(w, http.StatusBadRequest, fmt.Errorf("error parsing JSON: %w", err))
		return
	}
	var inc time.Duration
	if raw, ok := data["increment"]; ok {
		if inc, err = parseutil.ParseDurationSecond(raw); err != nil {
			respondError(w, http.StatusBadRequest, fmt.Errorf("invalid increment: %w", err))
			return
		}
	}
	e, ttl, err := s.tokens.renew(token, inc)
	if err != nil {
		status := http.StatusBadRequest
		if err.Error() == "permission denied" {
			status = http.StatusForbidden
		}
		respondError(w, status, err)
		return
	}
	respondJSON(w, http.StatusOK, map[string]any{"auth": authBlock(token, e, int(ttl/time.Second)), "warnings": nil})
}

// appRoleLogin answers auth/approle/login for the configured credentials.
func (s *Server) appRoleLogin(w http.ResponseWriter, r *http.Request) {
	body, ok := loginBody(w, r)
	if !ok {
		return
	}
	if s.cfg.AppRoleRoleID == "" {
		respondError(w, http.StatusNotFound, errors.New("no handler for route \"auth/approle/login\": AppRole is not enabled (set -approle-role-id)"))
		return
	}
	roleID, _ := body["role_id"].(string)
	secretID, _ := body["secret_id"].(string)
	if roleID == "" {
		respondError(w, http.StatusBadRequest, errors.New("missing role_id"))
		return
	}
	if !equalSecret(roleID, s.cfg.AppRoleRoleID) || !equalSecret(secretID, s.cfg.AppRoleSecretID) {
		respondError(w, http.StatusBadRequest, errors.New("invalid role or secret ID"))
		return
	}
	s.login(w, "auth/approle/login", "approle")
}

// kubernetesLogin answers auth/kubernetes/login for the configured role and
// JWT. The JWT is compared as a string, not verified.
func (s *Server) kubernetesLogin(w http.ResponseWriter, r *http.Request) {
	body, ok := loginBody(w, r)
	if !ok {
		return
	}
	if s.cfg.K8sRole == "" {
		respondError(w, http.StatusNotFound, errors.New("no handler for route \"auth/kubernetes/login\": Kubernetes auth is not enabled (set -k8s-role)"))
		return
	}
	role, _ := body["role"].(string)
	jwt, _ := body["jwt"].(string)
	if role == "" || jwt == "" {
		respondError(w, http.StatusBadRequest, errors.New("missing role or jwt"))
		return
	}
	if role != s.cfg.K8sRole {
		respondError(w, http.StatusBadRequest, fmt.Errorf("invalid role name %q", role))
		return
	}
	if !equalSecret(jwt, s.cfg.K8sJWT) {
		respondError(w, http.StatusForbidden, errors.New("permission denied"))
		return
	}
	s.login(w, "auth/kubernetes/login", role)
}

func loginBody(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		respondError(w, http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed", r.Method))
		return nil, false
	}
	body, err := parseJSON(r.Body)
	if err != nil {
		respondError(w, http.StatusBadRequest, fmt.Errorf("error parsing JSON: %w", err))
		return nil, false
	}
	return body, true
}

func (s *Server) login(w http.ResponseWriter, path, role string) {
	token, e := s.tokens.issue(path, role)
	respondJSON(w, http.StatusOK, map[string]any{"auth": authBlock(token, e, int(s.cfg.TokenTTL/time.Second)), "warnings": nil})
}

// mountInfo answers sys/internal/ui/mounts/<path>, which the Vault CLI's kv
// commands use to find a mount and its KV version.
func (s *Server) mountInfo(w http.ResponseWriter, path string) {
	m := s.mountFor(path)
	if m == nil {
		respondError(w, http.StatusBadRequest, fmt.Errorf("preflight capability check returned 403, please ensure client's policies grant access to path %q", path))
		return
	}
	respondJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"path":    m.path,
		"type":    m.typ,
		"options": m.options,
	}})
}
