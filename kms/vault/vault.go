// Package vault is the HashiCorp Vault key provider. The key-encryption key
// is a Vault Transit key that never leaves Vault. Each data class has a
// keyring of 32-byte data keys generated here with crypto/rand, wrapped by
// Transit encrypt and stored as one KV version 2 secret at
// <KVMount>/data/<KVPrefix>/keyrings/<class>, so every sidecar of a fleet
// reads the same keyring. Every write uses KV check-and-set and retries on a
// conflict from a fresh read, so two sidecars rotating at once never lose a
// version.
//
// Each wrapped key carries its class and version inside the Transit
// plaintext and is checked on unwrap, so a wrapped key copied to another
// class or version slot does not unwrap.
//
// With the default names, the Vault policy the provider needs is:
//
//	path "transit/encrypt/privacyvault-kek" { capabilities = ["update"] }
//	path "transit/decrypt/privacyvault-kek" { capabilities = ["update"] }
//	path "transit/rewrap/privacyvault-kek"  { capabilities = ["update"] }
//	path "transit/keys/privacyvault-kek"    { capabilities = ["read"] } # ["read", "create", "update"] with CreateKEK
//	path "secret/data/privacyvault/keyrings/*" { capabilities = ["create", "read", "update"] }
//	path "secret/metadata/privacyvault/keyrings/" { capabilities = ["list"] }
//
// Rotating the key-encryption key is done in Vault
// (transit/keys/<name>/rotate); Rewrap then re-wraps every stored data key
// under the new version without changing the data keys.
package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/privacyvault/privacyvault/kms"
)

var _ kms.Provider = (*Provider)(nil)

// Defaults applied by Open to empty Config fields.
const (
	DefaultTransitMount  = "transit"
	DefaultKEKName       = "privacyvault-kek"
	DefaultKVMount       = "secret"
	DefaultKVPrefix      = "privacyvault"
	DefaultTimeout       = 5 * time.Second
	DefaultK8sJWTFile    = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	DefaultAppRoleMount  = "approle"
	DefaultK8sAuthMount  = "kubernetes"
	defaultCASAttempts   = 20
	defaultReloginPeriod = 30 * time.Second
)

// Auth methods accepted in AuthConfig.Method.
const (
	AuthToken      = "token"
	AuthAppRole    = "approle"
	AuthKubernetes = "kubernetes"
)

// Config configures the Vault provider.
type Config struct {
	// Address is Vault's URL, for example https://vault.internal:8200.
	Address string
	// CAFile is a PEM file of CA certificates to verify Vault's TLS
	// certificate; empty uses VAULT_CACERT or else the system pool.
	// Verification is always on, whatever VAULT_SKIP_VERIFY says.
	CAFile string
	// Auth selects and configures how the provider logs in to Vault.
	Auth AuthConfig
	// TransitMount is the Transit engine's mount path (default "transit").
	TransitMount string
	// KEKName is the Transit key that wraps data keys (default
	// "privacyvault-kek").
	KEKName string
	// CreateKEK lets Open create the Transit key (aes256-gcm96) when it does
	// not exist. Without it a missing key is an error.
	CreateKEK bool
	// KVMount is the KV version 2 engine's mount path (default "secret").
	KVMount string
	// KVPrefix is the folder under the KV mount that holds the keyrings
	// (default "privacyvault").
	KVPrefix string
	// Timeout bounds every single call to Vault, and so how long Open and
	// each operation wait for an unreachable Vault (default 5s).
	Timeout time.Duration
}

// AuthConfig configures the Vault auth method.
type AuthConfig struct {
	// Method is "token" (default), "approle" or "kubernetes".
	Method string
	// Token is a static Vault token (method token).
	Token string
	// TokenFile holds a Vault token (method token), re-read when the token
	// can no longer be renewed, so an agent may rotate it.
	TokenFile string
	// RoleID is the AppRole role_id (method approle).
	RoleID string
	// SecretIDFile holds the AppRole secret_id (method approle); it is read
	// at every login.
	SecretIDFile string
	// Role is the Vault role to log in as (method kubernetes).
	Role string
	// JWTFile holds the Kubernetes service-account token (method
	// kubernetes), default /var/run/secrets/kubernetes.io/serviceaccount/token.
	JWTFile string
	// MountPath is the auth method's mount path (default "approle" or
	// "kubernetes").
	MountPath string
}

// Provider is the Vault key provider. It is safe for concurrent use.
type Provider struct {
	cfg    Config
	client *api.Client
	log    *slog.Logger
	rings  *kms.Keyrings

	authMu sync.Mutex       // serializes logins
	authCh chan *api.Secret // newest login, for the renewal loop

	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// Open connects to Vault, checks that it is reachable and unsealed, logs in,
// makes sure the Transit key exists (creating it if cfg.CreateKEK), and
// starts renewing the token in the background. It fails within about
// cfg.Timeout, with an error wrapping kms.ErrUnavailable, when Vault cannot
// be reached. logger may be nil; it never receives tokens or key material.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Provider, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	conf := api.DefaultConfig()
	if conf.Error != nil {
		return nil, fmt.Errorf("vault: client config: %w", conf.Error)
	}
	conf.Address = cfg.Address
	conf.Timeout = cfg.Timeout
	conf.MaxRetries = 1
	conf.MinRetryWait = 200 * time.Millisecond
	conf.MaxRetryWait = time.Second
	if cfg.CAFile != "" {
		if err := conf.ConfigureTLS(&api.TLSConfig{CACert: cfg.CAFile}); err != nil {
			return nil, fmt.Errorf("vault: CA file %s: %w", cfg.CAFile, err)
		}
	}
	if tr, ok := conf.HttpClient.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
		tr.TLSClientConfig.InsecureSkipVerify = false // VAULT_SKIP_VERIFY must not turn verification off
	}
	client, err := api.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("vault: client for %s: %w", cfg.Address, err)
	}
	client.ClearToken() // never fall back to VAULT_TOKEN from the environment
	p := &Provider{
		cfg:    cfg,
		client: client,
		log:    logger.With("vault_addr", cfg.Address),
		authCh: make(chan *api.Secret, 1),
		done:   make(chan struct{}),
	}
	p.rings = &kms.Keyrings{Store: ringStore{p}, Attempts: defaultCASAttempts, Log: p.log}
	if err := p.checkHealth(ctx); err != nil {
		return nil, err
	}
	secret, err := p.authenticate(ctx, "")
	if err != nil {
		return nil, err
	}
	if err := p.ensureKEK(ctx); err != nil {
		return nil, err
	}
	if err := p.checkKVMount(ctx); err != nil {
		return nil, err
	}
	bg, stop := context.WithCancel(context.Background())
	p.stop = stop
	go p.keepAlive(bg, secret)
	p.log.Info("vault key provider ready", "auth_method", cfg.Auth.Method,
		"kek", cfg.TransitMount+"/keys/"+cfg.KEKName, "keyrings", cfg.KVMount+"/data/"+cfg.KVPrefix+"/keyrings/")
	return p, nil
}

// Close stops token renewal. It does not revoke the token.
func (p *Provider) Close() error {
	p.closeOnce.Do(func() {
		if p.stop != nil {
			p.stop()
			<-p.done
		}
	})
	return nil
}

var segment = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// validPath reports whether s is one or more safe path segments.
func validPath(s string) bool {
	for seg := range strings.SplitSeq(s, "/") {
		if !segment.MatchString(seg) || seg == ".." {
			return false
		}
	}
	return s != ""
}

// setDefaults fills empty fields and validates the rest.
func (c *Config) setDefaults() error {
	if c.Address == "" {
		return errors.New("vault: Address is required")
	}
	trim := func(s, def string) string {
		if s = strings.Trim(s, "/"); s == "" {
			return def
		}
		return s
	}
	c.TransitMount = trim(c.TransitMount, DefaultTransitMount)
	c.KEKName = trim(c.KEKName, DefaultKEKName)
	c.KVMount = trim(c.KVMount, DefaultKVMount)
	c.KVPrefix = trim(c.KVPrefix, DefaultKVPrefix)
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	a := &c.Auth
	switch a.Method {
	case "", AuthToken:
		a.Method = AuthToken
		if a.Token == "" && a.TokenFile == "" {
			return errors.New("vault: auth method token needs Token or TokenFile")
		}
	case AuthAppRole:
		a.MountPath = trim(a.MountPath, DefaultAppRoleMount)
		if a.RoleID == "" || a.SecretIDFile == "" {
			return errors.New("vault: auth method approle needs RoleID and SecretIDFile")
		}
	case AuthKubernetes:
		a.MountPath = trim(a.MountPath, DefaultK8sAuthMount)
		if a.JWTFile == "" {
			a.JWTFile = DefaultK8sJWTFile
		}
		if a.Role == "" {
			return errors.New("vault: auth method kubernetes needs Role")
		}
	default:
		return fmt.Errorf("vault: unknown auth method %q (want token, approle or kubernetes)", a.Method)
	}
	for name, v := range map[string]string{"TransitMount": c.TransitMount, "KEKName": c.KEKName,
		"KVMount": c.KVMount, "KVPrefix": c.KVPrefix, "Auth.MountPath": a.MountPath} {
		if v != "" && !validPath(v) {
			return fmt.Errorf("vault: %s %q is not a valid Vault path", name, v)
		}
	}
	return nil
}

// do runs call against Vault like p.call. On a 403 answer with a login
// method it logs in again once and retries, since Vault may have lost or
// expired the token.
func (p *Provider) do(ctx context.Context, op string, call func(ctx context.Context) error) error {
	token := p.client.Token()
	err := p.call(ctx, op, call)
	if err == nil || p.cfg.Auth.Method == AuthToken || !statusIs(err, 403) {
		return err
	}
	if _, lerr := p.authenticate(ctx, token); lerr != nil {
		return err
	}
	return p.call(ctx, op, call)
}

// call runs one call against Vault bounded by the configured timeout and
// returns its error as an *opError naming op and the Vault address.
func (p *Provider) call(ctx context.Context, op string, call func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	if err := call(cctx); err != nil {
		return opErr(p.cfg.Address, op, err)
	}
	return nil
}

// checkHealth fails fast when Vault is unreachable, sealed or uninitialized.
func (p *Provider) checkHealth(ctx context.Context) error {
	var h *api.HealthResponse
	err := p.call(ctx, "health check", func(ctx context.Context) (err error) {
		h, err = p.client.Sys().HealthWithContext(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if !h.Initialized || h.Sealed {
		return fmt.Errorf("%w: vault: Vault at %s is sealed or not initialized", kms.ErrUnavailable, p.cfg.Address)
	}
	return nil
}

// checkKVMount makes sure the KV mount is version 2, which check-and-set
// needs. A token not allowed to ask is not an error: writes check again.
func (p *Provider) checkKVMount(ctx context.Context) error {
	var s *api.Secret
	err := p.call(ctx, "look up KV mount", func(ctx context.Context) (err error) {
		s, err = p.client.Logical().ReadWithContext(ctx, "sys/internal/ui/mounts/"+p.cfg.KVMount)
		return err
	})
	if errors.Is(err, kms.ErrUnavailable) {
		return err
	}
	if err != nil || s == nil {
		p.log.Debug("cannot check the KV mount version; continuing", "kv_mount", p.cfg.KVMount)
		return nil
	}
	if opts, _ := s.Data["options"].(map[string]any); opts == nil || opts["version"] != "2" {
		return fmt.Errorf("vault: mount %s at %s is not a KV version 2 secrets engine", p.cfg.KVMount, p.cfg.Address)
	}
	return nil
}
