// Package config loads the sidecar's YAML configuration: server settings,
// data classes, callers and grants. Every error names the file, the line and
// the field.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/privacyvault/privacyvault/tokenizer"
	"github.com/privacyvault/privacyvault/tokenizer/format"
)

// Defaults applied when the file leaves a setting out.
const (
	DefaultListen        = "127.0.0.1:7443"
	DefaultDataDir       = "./data"
	DefaultMaxBatch      = 10000
	DefaultMaxValueBytes = 64 << 10

	DefaultRefreshInterval = 30 * time.Second
	DefaultGracePeriod     = time.Hour
)

// Config is the whole configuration file.
type Config struct {
	Server  Server   `yaml:"server"`
	Keys    Keys     `yaml:"keys"`
	Classes []Class  `yaml:"classes"`
	Callers []Caller `yaml:"callers"`
	Policy  Policy   `yaml:"policy"`
	// Admins are the identities allowed to call AdminService.
	Admins []string `yaml:"admins"`
	// SubjectManagers may call SubjectService (consents; data-subject
	// requests). Admins may too.
	SubjectManagers []string `yaml:"subject_managers"`
	// Identity configures how callers are authenticated.
	Identity Identity `yaml:"identity"`
	// Audit configures the audit trail.
	Audit Audit `yaml:"audit"`
	// Metrics configures the Prometheus metrics listener.
	Metrics Metrics `yaml:"metrics"`
	// Store selects the record store (see store.go).
	Store Store `yaml:"store"`
}

// Identity configures the caller identity sources, tried in order: mTLS
// client certificate, Unix socket peer uid, JWT bearer token, and (with
// --dev only) static bearer tokens from callers.
type Identity struct {
	JWT      *JWT              `yaml:"jwt"`
	MTLS     *MTLS             `yaml:"mtls"`
	UnixUIDs map[uint32]string `yaml:"unix_uids"`
}

// JWT checks signed bearer tokens against a JWKS file (RS256, ES256).
type JWT struct {
	JWKSFile      string   `yaml:"jwks_file"`
	Issuer        string   `yaml:"issuer"`
	Audience      string   `yaml:"audience"`
	ClockSkew     Duration `yaml:"clock_skew"`
	IdentityClaim string   `yaml:"identity_claim"`
}

// MTLS serves TLS and takes the caller's SPIFFE ID from its client
// certificate. The CA bundle is reloaded when the file changes.
type MTLS struct {
	CABundleFile string `yaml:"ca_bundle_file"`
	TrustDomain  string `yaml:"trust_domain"`
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
}

// Audit configures the hash-chained audit log.
type Audit struct {
	// Dir holds audit.log (default <data_dir>/audit).
	Dir string `yaml:"dir"`
	// CheckpointEvery is how many events pass between signed checkpoints.
	CheckpointEvery int `yaml:"checkpoint_every"`
	// SigningKeyFile is the Ed25519 checkpoint key (default
	// <data_dir>/audit-signing.key, created 0600). With keys provider
	// vault, checkpoints are signed by a Vault Transit key instead, unless
	// this is set.
	SigningKeyFile string `yaml:"signing_key_file"`
	// TransitKey names that Transit key (default privacyvault-audit;
	// created as ed25519 if missing).
	TransitKey string `yaml:"transit_key"`
	// HeadName names this sidecar's copy of its audit chain head in Vault
	// KV (keys provider vault): unique per sidecar with its own data
	// directory (default: the host name).
	HeadName string `yaml:"head_name"`
	// Sink is where events go: "file" (audit.log in Dir, the default) or
	// "postgres" (one hash chain per sidecar instance in the store's
	// PostgreSQL database; needs store.backend: postgres).
	Sink string `yaml:"sink"`
	// InstanceID names this sidecar's chain with sink postgres: stable
	// across restarts and unique among live sidecars (default: a random id
	// created once in <data_dir>/audit-instance-id).
	InstanceID string `yaml:"instance_id"`
	// FileSyncInterval bounds how long audit.log holds lines written but
	// not fsync'd (default 1s) when the events are made durable in the
	// Badger store's journal (sink file with store backend badger).
	FileSyncInterval Duration `yaml:"file_sync_interval"`
}

// Metrics configures the metrics listener.
type Metrics struct {
	// Listen is host:port for GET /metrics; empty turns it off.
	Listen string `yaml:"listen"`
}

// Keys configures the key provider and the key cache.
type Keys struct {
	// Provider is "dev" (development; the default) or "vault".
	Provider string `yaml:"provider"`
	// Vault configures the HashiCorp Vault provider.
	Vault Vault `yaml:"vault"`
	// RefreshInterval is how often keyrings are re-read, so rotations made
	// at another sidecar are seen (default 30s).
	RefreshInterval Duration `yaml:"refresh_interval"`
	// GracePeriod is how long the data plane serves from cached keys while
	// the provider is unreachable (default 1h; vault only).
	GracePeriod Duration `yaml:"grace_period"`
}

// Server holds listener and limit settings.
type Server struct {
	// Listen is host:port or unix:///path.
	Listen string `yaml:"listen"`
	// DataDir holds the embedded store and the development keys.
	DataDir string `yaml:"data_dir"`
	// MaxBatch is the most items one call may carry.
	MaxBatch int `yaml:"max_batch"`
	// MaxValueBytes is the largest value accepted.
	MaxValueBytes int `yaml:"max_value_bytes"`
	// PurgeInterval is how often expired records are deleted (default
	// 10m); they are unreadable from the moment they expire.
	PurgeInterval Duration `yaml:"purge_interval"`
}

// Class is a data class: a named kind of personal data.
type Class struct {
	Name string `yaml:"name"`
	// Description says what the class holds, for people: it appears in
	// subject exports and the record of processing activities.
	Description string `yaml:"description"`
	// Mode is the token mode: random or deterministic.
	Mode string `yaml:"mode"`
	// Binary allows values that are not UTF-8 text.
	Binary bool `yaml:"binary"`
	// Retention is how long a token resolves ("720h", "90d"); empty keeps it.
	Retention Duration `yaml:"retention"`
	// Format parses the class's values: required for modes fpe and mask,
	// optional otherwise (it then validates values and shapes masked reveals).
	Format *format.Spec `yaml:"format"`
	// Algorithm is the FPE cipher of an fpe class: ff1 (default) or ff3-1
	// (compatibility only; the caller then supplies a 7-byte tweak).
	Algorithm string `yaml:"algorithm"`
	// KeyVersion is the keyring version an fpe class encrypts with
	// (default 1). Change it only after re-tokenizing the stored tokens
	// (privacyvault keys retokenize): FPE tokens cannot name their version.
	KeyVersion uint32 `yaml:"key_version"`
	// ShredWithSubject (fpe) keys the tweak by the subject's key, so that
	// erasing the subject makes its vaultless tokens undecryptable too;
	// every tokenize and detokenize then names the subject.
	ShredWithSubject bool `yaml:"shred_with_subject"`
}

// ParsedFormat returns the class format, or nil if it has none. On a
// validated Config it cannot fail.
func (c Class) ParsedFormat() (format.Format, error) {
	if c.Format == nil {
		return nil, nil
	}
	f, err := format.New(*c.Format)
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	return f, nil
}

// Vault configures the HashiCorp Vault key provider: a Transit key wraps
// the data keys, which are kept as keyrings in KV version 2.
type Vault struct {
	// Address is Vault's URL (default from VAULT_ADDR).
	Address string `yaml:"address"`
	// CAFile verifies Vault's TLS certificate.
	CAFile string `yaml:"ca_file"`
	// TransitMount, KEKName, KVMount and KVPrefix name where keys live
	// (defaults transit, privacyvault-kek, secret, privacyvault).
	TransitMount string `yaml:"transit_mount"`
	KEKName      string `yaml:"kek_name"`
	KVMount      string `yaml:"kv_mount"`
	KVPrefix     string `yaml:"kv_prefix"`
	// CreateKEK creates the Transit key if it is missing.
	CreateKEK bool `yaml:"create_kek"`
	// Timeout bounds each call to Vault (default 5s).
	Timeout Duration `yaml:"timeout"`
	// Auth is how the sidecar logs in.
	Auth VaultAuth `yaml:"auth"`
}

// VaultAuth configures the Vault auth method. Secrets are read from files
// or the environment, never written in this file.
type VaultAuth struct {
	// Method is token (default), approle or kubernetes.
	Method string `yaml:"method"`
	// TokenEnv names the variable holding a Vault token (default
	// VAULT_TOKEN); TokenFile is a file holding one instead.
	TokenEnv  string `yaml:"token_env"`
	TokenFile string `yaml:"token_file"`
	// RoleID and SecretIDFile are the AppRole credentials.
	RoleID       string `yaml:"role_id"`
	SecretIDFile string `yaml:"secret_id_file"`
	// Role and JWTFile are the Kubernetes credentials (JWTFile defaults to
	// the pod's service-account token).
	Role    string `yaml:"role"`
	JWTFile string `yaml:"jwt_file"`
	// MountPath is the auth method's mount (default approle or kubernetes).
	MountPath string `yaml:"mount_path"`
}

// Caller is a static bearer-token identity.
type Caller struct {
	Identity string `yaml:"identity"`
	// Token is the bearer token; TokenEnv names an environment variable
	// holding it instead, so secrets need not sit in the file.
	Token    string `yaml:"token"`
	TokenEnv string `yaml:"token_env"`
}

// Duration is a time.Duration that also accepts a days suffix ("30d").
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	if s == "" || s == "0" {
		*d = 0
		return nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.Atoi(days)
		if err != nil || v < 0 {
			return &Error{Line: n.Line, Msg: fmt.Sprintf("invalid duration %q (want e.g. 720h or 30d)", s)}
		}
		*d = Duration(time.Duration(v) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return &Error{Line: n.Line, Msg: fmt.Sprintf("invalid duration %q (want e.g. 720h or 30d)", s)}
	}
	*d = Duration(v)
	return nil
}

// Error is a configuration problem at a place in a file.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	return b.String() + ": " + e.Msg
}

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, b)
}

// Parse validates data read from the file named name.
func Parse(name string, data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, syntaxError(name, data, err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, decodeError(name, &root, err)
	}
	c.applyDefaults()
	v := validator{file: name, root: &root}
	c.validate(&v)
	if err := v.err(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	if c.Server.Listen == "" {
		c.Server.Listen = DefaultListen
	}
	if c.Server.DataDir == "" {
		c.Server.DataDir = DefaultDataDir
	}
	if c.Server.MaxBatch == 0 {
		c.Server.MaxBatch = DefaultMaxBatch
	}
	if c.Server.MaxValueBytes == 0 {
		c.Server.MaxValueBytes = DefaultMaxValueBytes
	}
	if c.Server.PurgeInterval == 0 {
		c.Server.PurgeInterval = Duration(10 * time.Minute)
	}
	if c.Keys.Provider == "" {
		c.Keys.Provider = "dev"
	}
	if c.Keys.RefreshInterval == 0 {
		c.Keys.RefreshInterval = Duration(DefaultRefreshInterval)
	}
	if c.Keys.GracePeriod == 0 {
		c.Keys.GracePeriod = Duration(DefaultGracePeriod)
	}
	c.applyStoreDefaults()
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

func (c *Config) validate(v *validator) {
	c.validateStore(v)
	if c.Server.MaxBatch < 0 {
		v.fail("must not be negative", "server", "max_batch")
	}
	if c.Server.MaxValueBytes < 0 {
		v.fail("must not be negative", "server", "max_value_bytes")
	}
	switch c.Keys.Provider {
	case "dev":
	case "vault":
		c.validateVault(v)
	default:
		v.fail(fmt.Sprintf("unknown key provider %q (want dev or vault)", c.Keys.Provider), "keys", "provider")
	}
	if len(c.Classes) == 0 {
		v.fail("at least one data class is required", "classes")
	}
	classes := map[string]bool{}
	for i, cl := range c.Classes {
		at := []any{"classes", i}
		switch {
		case !namePattern.MatchString(cl.Name):
			v.fail("must match "+namePattern.String(), append(at, "name")...)
		case classes[cl.Name]:
			v.fail(fmt.Sprintf("duplicate class %q", cl.Name), append(at, "name")...)
		}
		classes[cl.Name] = true
		mode, err := tokenizer.ParseMode(cl.Mode)
		if err != nil {
			v.fail(err.Error(), append(at, "mode")...)
		}
		validateFormat(v, cl, mode, at)
	}
	callers := map[string]bool{}
	tokens := map[string]bool{}
	for i, cr := range c.Callers {
		at := []any{"callers", i}
		if cr.Identity == "" {
			v.fail("is required", append(at, "identity")...)
		}
		callers[cr.Identity] = true
		switch {
		case cr.Token == "" && cr.TokenEnv == "":
			v.fail("one of token or token_env is required", at...)
		case cr.Token != "" && cr.TokenEnv != "":
			v.fail("set token or token_env, not both", at...)
		case cr.TokenEnv != "" && os.Getenv(cr.TokenEnv) == "":
			v.fail(fmt.Sprintf("environment variable %s is empty", cr.TokenEnv), append(at, "token_env")...)
		}
		tok := cr.Secret()
		if tok != "" && len(tok) < 16 {
			v.fail("bearer token must be at least 16 characters", append(at, "token")...)
		}
		if tok != "" && tokens[tok] {
			v.fail("bearer token is shared with another caller", append(at, "token")...)
		}
		tokens[tok] = true
	}
	c.validateIdentity(v)
	c.validatePolicy(v, classes)
}

func (c *Config) validateIdentity(v *validator) {
	if j := c.Identity.JWT; j != nil {
		at := []any{"identity", "jwt"}
		if j.JWKSFile == "" {
			v.fail("is required", append(at, "jwks_file")...)
		}
		if j.Issuer == "" {
			v.fail("is required", append(at, "issuer")...)
		}
		if j.Audience == "" {
			v.fail("is required", append(at, "audience")...)
		}
	}
	if m := c.Identity.MTLS; m != nil {
		at := []any{"identity", "mtls"}
		for _, f := range []struct{ name, val string }{{"ca_bundle_file", m.CABundleFile}, {"cert_file", m.CertFile}, {"key_file", m.KeyFile}} {
			if f.val == "" {
				v.fail("is required", append(at, f.name)...)
			}
		}
	}
	if c.Audit.TransitKey != "" && c.Keys.Provider != "vault" {
		v.fail("needs keys.provider: vault", "audit", "transit_key")
	}
	if c.Audit.CheckpointEvery < 0 {
		v.fail("must not be negative", "audit", "checkpoint_every")
	}
}

func (c *Config) validateVault(v *validator) {
	va := c.Keys.Vault
	at := []any{"keys", "vault"}
	if va.Address == "" && os.Getenv("VAULT_ADDR") == "" {
		v.fail("is required (or set VAULT_ADDR)", append(at, "address")...)
	}
	auth := append(at, "auth")
	switch va.Auth.Method {
	case "", "token":
		if va.Auth.TokenFile == "" && os.Getenv(pick(va.Auth.TokenEnv, "VAULT_TOKEN")) == "" {
			v.fail(fmt.Sprintf("token auth needs token_file or the environment variable %s", pick(va.Auth.TokenEnv, "VAULT_TOKEN")), append(auth, "method")...)
		}
	case "approle":
		if va.Auth.RoleID == "" || va.Auth.SecretIDFile == "" {
			v.fail("approle auth needs role_id and secret_id_file", append(auth, "method")...)
		}
	case "kubernetes":
		if va.Auth.Role == "" {
			v.fail("kubernetes auth needs role", append(auth, "role")...)
		}
	default:
		v.fail(fmt.Sprintf("unknown auth method %q (want token, approle or kubernetes)", va.Auth.Method), append(auth, "method")...)
	}
}

func pick(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func validateFormat(v *validator, cl Class, mode tokenizer.Mode, at []any) {
	if _, err := tokenizer.ParseAlgorithm(cl.Algorithm); err != nil {
		v.fail(err.Error(), append(at, "algorithm")...)
	}
	if cl.Algorithm != "" && mode != tokenizer.FPE {
		v.fail("only fpe classes take an algorithm", append(at, "algorithm")...)
	}
	if cl.ShredWithSubject && mode != tokenizer.FPE {
		v.fail("only fpe classes take shred_with_subject; vaulted values given a subject_id are always sealed under the subject's key", append(at, "shred_with_subject")...)
	}
	if cl.KeyVersion != 0 && mode != tokenizer.FPE {
		v.fail("only fpe classes take a key_version; vaulted classes rotate with privacyvault keys rotate", append(at, "key_version")...)
	}
	if cl.Format == nil {
		if mode == tokenizer.FPE || mode == tokenizer.Mask {
			v.fail(fmt.Sprintf("mode %s needs a format", mode), append(at, "mode")...)
		}
		return
	}
	if cl.Binary {
		v.fail("a binary class cannot have a format", append(at, "binary")...)
	}
	if _, err := format.New(*cl.Format); err != nil {
		field := append(at, "format")
		var fe *format.Error
		if errors.As(err, &fe) && fe.Field != "" {
			field = append(field, fe.Field)
		}
		v.fail(err.Error(), field...)
	}
}

// Secret returns the caller's bearer token, read from the environment when
// TokenEnv is set.
func (c Caller) Secret() string {
	if c.TokenEnv != "" {
		return os.Getenv(c.TokenEnv)
	}
	return c.Token
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
