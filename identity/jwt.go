package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	defaultClockSkew = 30 * time.Second
	maxClockSkew     = 5 * time.Minute
	maxTokenSize     = 16 << 10 // bytes; longer bearer tokens are refused unparsed
	minRSABits       = 2048
)

// allowedAlgs are the only signature algorithms a token may use. none, HS*
// and every other algorithm fail at parse time, before any key is looked at.
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// JWTConfig configures a JWTVerifier.
type JWTConfig struct {
	// JWKSFile is the path of a JSON Web Key Set holding the public keys
	// tokens are signed with. Required.
	JWKSFile string
	// Issuer must equal the token's "iss" claim. Required.
	Issuer string
	// Audience must be one of the token's "aud" values. Required.
	Audience string
	// ClockSkew is the leeway allowed on "exp", "nbf" and "iat".
	// Zero means 30s; more than 5m or negative is a configuration error.
	ClockSkew time.Duration
	// IdentityClaim names the string claim that becomes the Identity.
	// Empty means "sub".
	IdentityClaim string
	// Now returns the time tokens are checked at. Nil means time.Now.
	Now func() time.Time
	// Logger receives failures of automatic JWKS reloads. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// JWTVerifier checks signed JWT bearer tokens against the keys of a JWKS
// file. Only RS256 (RSA keys of at least 2048 bits) and ES256 (P-256 keys)
// are accepted, and a token's "alg" must match the algorithm of the key
// that verifies it.
//
// The JWKS file is reloaded when it changes: Verify looks at the file's
// stat at most once per second and reloads it if it differs; Reload
// reloads it at once (e.g. on SIGHUP). A new file that does not load
// keeps the previous keys in use.
//
// A JWTVerifier is safe for concurrent use.
type JWTVerifier struct {
	cfg  JWTConfig
	keys *watched[jwkSet]
}

type jwkSet struct {
	keys []verificationKey
}

type verificationKey struct {
	kid string
	alg string // RS256 or ES256, from the key's type
	key any    // *rsa.PublicKey or *ecdsa.PublicKey
}

// NewJWTVerifier checks cfg, loads the JWKS file and returns a verifier.
// Errors are configuration errors; they never wrap ErrUnauthenticated.
func NewJWTVerifier(cfg JWTConfig) (*JWTVerifier, error) {
	switch {
	case cfg.JWKSFile == "":
		return nil, errors.New("identity: jwt: JWKSFile is required")
	case cfg.Issuer == "":
		return nil, errors.New("identity: jwt: Issuer is required")
	case cfg.Audience == "":
		return nil, errors.New("identity: jwt: Audience is required")
	case cfg.ClockSkew < 0 || cfg.ClockSkew > maxClockSkew:
		return nil, fmt.Errorf("identity: jwt: ClockSkew %v is outside [0, %v]", cfg.ClockSkew, maxClockSkew)
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = defaultClockSkew
	}
	if cfg.IdentityClaim == "" {
		cfg.IdentityClaim = "sub"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	path := cfg.JWKSFile
	w, err := newWatched("JWKS", []string{path}, cfg.Logger, nil, func() (*jwkSet, error) { return loadJWKS(path) })
	if err != nil {
		return nil, err
	}
	return &JWTVerifier{cfg: cfg, keys: w}, nil
}

// Reload reads the JWKS file now. If it does not load, the previous keys
// stay in use and the error (a configuration error) is returned.
func (v *JWTVerifier) Reload() error { return v.keys.Reload() }

// Verify returns the identity named by token's identity claim, or an
// error wrapping ErrUnauthenticated if the token is malformed, uses another
// algorithm, matches no key, has a bad signature, lacks "exp", is expired
// or not yet valid (beyond the clock skew), or has the wrong issuer or
// audience. Errors never contain the token.
func (v *JWTVerifier) Verify(token string) (Identity, error) {
	if token == "" {
		return "", unauthenticated("jwt: no token")
	}
	if len(token) > maxTokenSize {
		return "", unauthenticated("jwt: token too large")
	}
	v.keys.maybeReload()
	tok, err := jwt.ParseSigned(token, allowedAlgs)
	if err != nil {
		return "", unauthenticated("jwt: malformed token or algorithm not allowed")
	}
	h := tok.Headers[0]
	candidates := v.keys.get().match(h.Algorithm, h.KeyID)
	if len(candidates) == 0 {
		return "", unauthenticated("jwt: no key matches the token's kid and alg")
	}
	var std jwt.Claims
	var all map[string]any
	if !verifyAny(tok, candidates, &std, &all) {
		return "", unauthenticated("jwt: bad signature or malformed claims")
	}
	if std.Expiry == nil {
		return "", unauthenticated("jwt: token has no exp claim")
	}
	want := jwt.Expected{Issuer: v.cfg.Issuer, AnyAudience: jwt.Audience{v.cfg.Audience}, Time: v.cfg.Now()}
	if err := std.ValidateWithLeeway(want, v.cfg.ClockSkew); err != nil {
		return "", fmt.Errorf("%w: jwt: %w", ErrUnauthenticated, err)
	}
	id, _ := all[v.cfg.IdentityClaim].(string)
	if id == "" {
		return "", unauthenticated("jwt: identity claim missing, empty or not a string")
	}
	return Identity(id), nil
}

// verifyAny reports whether one of keys verifies tok, decoding its claims
// into dest if so.
func verifyAny(tok *jwt.JSONWebToken, keys []verificationKey, dest ...any) bool {
	for _, k := range keys {
		if tok.Claims(k.key, dest...) == nil {
			return true
		}
	}
	return false
}

// match returns the keys for alg: the ones with kid if kid is set, else
// all of them.
func (s *jwkSet) match(alg, kid string) []verificationKey {
	var out []verificationKey
	for _, k := range s.keys {
		if k.alg == alg && (kid == "" || k.kid == kid) {
			out = append(out, k)
		}
	}
	return out
}

// loadJWKS reads a JWKS file. Keys for encryption ("use": "enc"), of other
// types or curves, or declaring another "alg" are skipped; private or
// symmetric keys, RSA keys under 2048 bits, and a set with no usable key
// are errors.
func loadJWKS(path string) (*jwkSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity: jwt: %w", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("identity: jwt: JWKS %s: %w", path, err)
	}
	out := &jwkSet{}
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return nil, fmt.Errorf("identity: jwt: JWKS %s: key %d (kid %q) is private or symmetric; the file must hold public keys only", path, i, k.KeyID)
		}
		var alg string
		switch pub := k.Key.(type) {
		case *rsa.PublicKey:
			if pub.N.BitLen() < minRSABits {
				return nil, fmt.Errorf("identity: jwt: JWKS %s: key %d (kid %q) is RSA-%d, want at least %d bits", path, i, k.KeyID, pub.N.BitLen(), minRSABits)
			}
			alg = string(jose.RS256)
		case *ecdsa.PublicKey:
			if pub.Curve != elliptic.P256() {
				continue
			}
			alg = string(jose.ES256)
		default:
			continue
		}
		if (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != alg) {
			continue
		}
		out.keys = append(out.keys, verificationKey{kid: k.KeyID, alg: alg, key: k.Key})
	}
	if len(out.keys) == 0 {
		return nil, fmt.Errorf("identity: jwt: JWKS %s has no usable RS256 or ES256 signing key", path)
	}
	return out, nil
}
