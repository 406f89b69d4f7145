package identity_test

import (
	"cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/privacyvault/privacyvault/identity"
)

const (
	testIssuer   = "https://issuer.example"
	testAudience = "privacyvault"
)

type jwtKeys struct {
	rsa, rsaNew, rsaOther, rsa1024 *rsa.PrivateKey
	ec, ecOther                    *ecdsa.PrivateKey
}

// testJWTKeys are generated once: RSA key generation is slow under -race.
var testJWTKeys = sync.OnceValue(func() jwtKeys {
	r := func(bits int) *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	e := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	return jwtKeys{rsa: r(2048), rsaNew: r(2048), rsaOther: r(2048), rsa1024: r(1024), ec: e(), ecOther: e()}
})

// jwks returns a JWKS document of keys (private keys are written as is).
func jwks(t *testing.T, keys ...jose.JSONWebKey) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pubJWK(key any, kid string) jose.JSONWebKey {
	k := jose.JSONWebKey{Key: key, KeyID: kid}
	return k.Public()
}

// claimsAt returns valid claims at now for subject "checkout", changed by mod.
func claimsAt(now time.Time, mod func(*jwt.Claims)) *jwt.Claims {
	c := &jwt.Claims{
		Issuer:    testIssuer,
		Audience:  jwt.Audience{testAudience},
		Subject:   "checkout",
		Expiry:    jwt.NewNumericDate(now.Add(5 * time.Minute)),
		NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
	}
	mod(c)
	return c
}

func keep(*jwt.Claims) {}

// sign returns a compact JWS of claims signed by key with alg; kid "" puts
// no kid in the header.
func sign(t *testing.T, key any, alg jose.SignatureAlgorithm, kid string, claims ...any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	b := jwt.Signed(s)
	for _, c := range claims {
		b = b.Claims(c)
	}
	tok, err := b.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func b64(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// newJWTVerifier writes a JWKS of the RSA key "rsa-1" and the P-256 key
// "ec-1" and returns a verifier at clock's time, with its reload pace on
// clock too.
func newJWTVerifier(t *testing.T, clock *fakeClock, cfg identity.JWTConfig) (*identity.JWTVerifier, string) {
	t.Helper()
	k := testJWTKeys()
	path := filepath.Join(t.TempDir(), "jwks.json")
	replaceFile(t, path, jwks(t, pubJWK(&k.rsa.PublicKey, "rsa-1"), pubJWK(&k.ec.PublicKey, "ec-1")))
	cfg.JWKSFile, cfg.Issuer, cfg.Audience, cfg.Now = path, testIssuer, testAudience, clock.Now
	cfg.Logger = cmp.Or(cfg.Logger, quiet)
	v, err := identity.NewJWTVerifier(cfg)
	if err != nil {
		t.Fatalf("NewJWTVerifier = %v, want nil", err)
	}
	identity.SetJWTReloadClock(v, clock.Now)
	return v, path
}

func TestJWTVerifyAccepts(t *testing.T) {
	k := testJWTKeys()
	clock := newFakeClock()
	now := clock.Now()
	v, _ := newJWTVerifier(t, clock, identity.JWTConfig{})
	tests := []struct {
		name  string
		token string
		want  identity.Identity
	}{
		{"RS256 with kid", sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, keep)), "checkout"},
		{"ES256 with kid", sign(t, k.ec, jose.ES256, "ec-1", claimsAt(now, keep)), "checkout"},
		{"RS256 without kid", sign(t, k.rsa, jose.RS256, "", claimsAt(now, keep)), "checkout"},
		{"ES256 without kid", sign(t, k.ec, jose.ES256, "", claimsAt(now, keep)), "checkout"},
		{"expired 10s ago, skew 30s", sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, func(c *jwt.Claims) {
			c.Expiry = jwt.NewNumericDate(now.Add(-10 * time.Second))
		})), "checkout"},
		{"nbf in 10s, skew 30s", sign(t, k.ec, jose.ES256, "ec-1", claimsAt(now, func(c *jwt.Claims) {
			c.NotBefore = jwt.NewNumericDate(now.Add(10 * time.Second))
		})), "checkout"},
		{"no nbf", sign(t, k.ec, jose.ES256, "ec-1", claimsAt(now, func(c *jwt.Claims) { c.NotBefore = nil })), "checkout"},
		{"audience among several", sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, func(c *jwt.Claims) {
			c.Audience = jwt.Audience{"other", testAudience}
		})), "checkout"},
		{"other subject", sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, func(c *jwt.Claims) { c.Subject = "support" })), "support"},
	}
	for _, tt := range tests {
		got, err := v.Verify(tt.token)
		if got != tt.want || err != nil {
			t.Errorf("Verify(%s) = %q, %v, want %q, nil", tt.name, got, err, tt.want)
		}
	}
}

func TestJWTVerifyRejects(t *testing.T) {
	k := testJWTKeys()
	clock := newFakeClock()
	now := clock.Now()
	v, _ := newJWTVerifier(t, clock, identity.JWTConfig{})

	pubDER, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	valid := sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, keep))
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + b64(t, claimsAt(now, func(c *jwt.Claims) { c.Subject = "admin" })) + "." + parts[2]
	none := b64(t, map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(t, claimsAt(now, keep)) + "."
	noneKid := b64(t, map[string]string{"alg": "none", "kid": "rsa-1"}) + "." + b64(t, claimsAt(now, keep)) + "."

	tests := []struct {
		name   string
		token  string
		reason string // in the error message
	}{
		{"expired 1m ago", sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, func(c *jwt.Claims) {
			c.Expiry = jwt.NewNumericDate(now.Add(-time.Minute))
		})), "token is expired"},
		{"nbf in 1m", sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, func(c *jwt.Claims) {
			c.NotBefore = jwt.NewNumericDate(now.Add(time.Minute))
		})), "not valid yet"},
		{"iat in 1m", sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, func(c *jwt.Claims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(time.Minute))
		})), "issued in the future"},
		{"no exp", sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, func(c *jwt.Claims) { c.Expiry = nil })), "no exp"},
		{"wrong audience", sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, func(c *jwt.Claims) { c.Audience = jwt.Audience{"other"} })), "audience"},
		{"no audience", sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, func(c *jwt.Claims) { c.Audience = nil })), "audience"},
		{"wrong issuer", sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, func(c *jwt.Claims) { c.Issuer = "https://evil.example" })), "issuer"},
		{"issuer prefix", sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, func(c *jwt.Claims) { c.Issuer = testIssuer + "/" })), "issuer"},
		{"no subject", sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, func(c *jwt.Claims) { c.Subject = "" })), "identity claim"},
		{"alg none", none, "algorithm not allowed"},
		{"alg none with kid", noneKid, "algorithm not allowed"},
		{"HS256 keyed with the RSA public key PEM", sign(t, pubPEM, jose.HS256, "rsa-1", claimsAt(now, keep)), "algorithm not allowed"},
		{"HS256 keyed with the RSA public key DER, no kid", sign(t, pubDER, jose.HS256, "", claimsAt(now, keep)), "algorithm not allowed"},
		{"RS384", sign(t, k.rsa, jose.RS384, "rsa-1", claimsAt(now, keep)), "algorithm not allowed"},
		{"PS256", sign(t, k.rsa, jose.PS256, "rsa-1", claimsAt(now, keep)), "algorithm not allowed"},
		{"ES256 header on the RSA key's kid", sign(t, k.ec, jose.ES256, "rsa-1", claimsAt(now, keep)), "no key matches"},
		{"RS256 header on the EC key's kid", sign(t, k.rsa, jose.RS256, "ec-1", claimsAt(now, keep)), "no key matches"},
		{"unknown kid", sign(t, k.rsa, jose.RS256, "rsa-2", claimsAt(now, keep)), "no key matches"},
		{"unknown RSA key, no kid", sign(t, k.rsaOther, jose.RS256, "", claimsAt(now, keep)), "bad signature"},
		{"unknown EC key, known kid", sign(t, k.ecOther, jose.ES256, "ec-1", claimsAt(now, keep)), "bad signature"},
		{"tampered payload", tampered, "bad signature"},
		{"signature cut", parts[0] + "." + parts[1] + ".", "bad signature"},
		{"two parts", parts[0] + "." + parts[1], "malformed"},
		{"garbage", "not.a.jwt", "malformed"},
		{"too large", valid + strings.Repeat("A", 16<<10), "too large"},
	}
	for _, tt := range tests {
		got, err := v.Verify(tt.token)
		if got != "" || !errors.Is(err, identity.ErrUnauthenticated) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("Verify(%s) = %q, %v, want \"\", ErrUnauthenticated (%s)", tt.name, got, err, tt.reason)
		}
	}
	for _, tt := range tests {
		_, err := v.Verify(tt.token)
		if msg := fmt.Sprint(err); strings.Contains(msg, tt.token) {
			t.Errorf("Verify(%s) error = %q, want a message without the token", tt.name, msg)
		}
	}
	if got, err := v.Verify(""); got != "" || !errors.Is(err, identity.ErrUnauthenticated) {
		t.Errorf("Verify(\"\") = %q, %v, want \"\", ErrUnauthenticated", got, err)
	}
}

func TestJWTIdentityClaim(t *testing.T) {
	k := testJWTKeys()
	clock := newFakeClock()
	now := clock.Now()
	v, _ := newJWTVerifier(t, clock, identity.JWTConfig{IdentityClaim: "client_id"})
	tests := []struct {
		name    string
		extra   map[string]any
		want    identity.Identity
		wantErr error
	}{
		{"string claim", map[string]any{"client_id": "billing"}, "billing", nil},
		{"missing claim (sub is not used)", map[string]any{}, "", identity.ErrUnauthenticated},
		{"empty claim", map[string]any{"client_id": ""}, "", identity.ErrUnauthenticated},
		{"number claim", map[string]any{"client_id": 42}, "", identity.ErrUnauthenticated},
		{"list claim", map[string]any{"client_id": []string{"billing"}}, "", identity.ErrUnauthenticated},
	}
	for _, tt := range tests {
		got, err := v.Verify(sign(t, k.ec, jose.ES256, "ec-1", claimsAt(now, keep), tt.extra))
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("Verify(%s) = %q, %v, want %q, %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestJWTClockSkew(t *testing.T) {
	k := testJWTKeys()
	clock := newFakeClock()
	now := clock.Now()
	expiredBy := func(d time.Duration) string {
		return sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(-d)) }))
	}
	tests := []struct {
		skew      time.Duration
		expiredBy time.Duration
		wantErr   error
	}{
		{0, 29 * time.Second, nil}, // 0 means the 30s default
		{0, 31 * time.Second, jwt.ErrExpired},
		{5 * time.Minute, 4 * time.Minute, nil},
		{5 * time.Minute, 6 * time.Minute, jwt.ErrExpired},
		{time.Second, 2 * time.Second, identity.ErrUnauthenticated},
	}
	for _, tt := range tests {
		v, _ := newJWTVerifier(t, clock, identity.JWTConfig{ClockSkew: tt.skew})
		_, err := v.Verify(expiredBy(tt.expiredBy))
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("skew %v: Verify(expired by %v) = %v, want %v", tt.skew, tt.expiredBy, err, tt.wantErr)
		}
	}
}

func TestNewJWTVerifierConfigErrors(t *testing.T) {
	k := testJWTKeys()
	dir := t.TempDir()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		replaceFile(t, p, data)
		return p
	}
	good := file("good.json", jwks(t, pubJWK(&k.rsa.PublicKey, "rsa-1")))
	tests := []struct {
		name string
		cfg  identity.JWTConfig
	}{
		{"no JWKS file", identity.JWTConfig{Issuer: testIssuer, Audience: testAudience}},
		{"missing JWKS file", identity.JWTConfig{JWKSFile: filepath.Join(dir, "nope.json"), Issuer: testIssuer, Audience: testAudience}},
		{"no issuer", identity.JWTConfig{JWKSFile: good, Audience: testAudience}},
		{"no audience", identity.JWTConfig{JWKSFile: good, Issuer: testIssuer}},
		{"skew over 5m", identity.JWTConfig{JWKSFile: good, Issuer: testIssuer, Audience: testAudience, ClockSkew: 5*time.Minute + time.Second}},
		{"negative skew", identity.JWTConfig{JWKSFile: good, Issuer: testIssuer, Audience: testAudience, ClockSkew: -time.Second}},
		{"not JSON", identity.JWTConfig{JWKSFile: file("bad.json", []byte("{")), Issuer: testIssuer, Audience: testAudience}},
		{"empty set", identity.JWTConfig{JWKSFile: file("empty.json", []byte(`{"keys":[]}`)), Issuer: testIssuer, Audience: testAudience}},
		{"private RSA key", identity.JWTConfig{JWKSFile: file("priv.json", jwks(t, jose.JSONWebKey{Key: k.rsa, KeyID: "p"})), Issuer: testIssuer, Audience: testAudience}},
		{"symmetric key", identity.JWTConfig{JWKSFile: file("oct.json", jwks(t, jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "h"})), Issuer: testIssuer, Audience: testAudience}},
		{"RSA-1024", identity.JWTConfig{JWKSFile: file("small.json", jwks(t, pubJWK(&k.rsa1024.PublicKey, "small"))), Issuer: testIssuer, Audience: testAudience}},
		{"only an encryption key", identity.JWTConfig{JWKSFile: file("enc.json", jwks(t, jose.JSONWebKey{Key: &k.ec.PublicKey, KeyID: "e", Use: "enc"})), Issuer: testIssuer, Audience: testAudience}},
		{"only a PS256 key", identity.JWTConfig{JWKSFile: file("ps.json", jwks(t, jose.JSONWebKey{Key: &k.rsa.PublicKey, KeyID: "ps", Algorithm: "PS256"})), Issuer: testIssuer, Audience: testAudience}},
	}
	for _, tt := range tests {
		v, err := identity.NewJWTVerifier(tt.cfg)
		if v != nil || err == nil || errors.Is(err, identity.ErrUnauthenticated) {
			t.Errorf("NewJWTVerifier(%s) = %v, %v, want nil, a configuration error", tt.name, v, err)
		}
	}
}

func TestJWTReloadRotatesKeys(t *testing.T) {
	k := testJWTKeys()
	clock := newFakeClock()
	now := clock.Now()
	v, path := newJWTVerifier(t, clock, identity.JWTConfig{})
	oldTok := sign(t, k.rsa, jose.RS256, "rsa-1", claimsAt(now, keep))
	newTok := sign(t, k.rsaNew, jose.RS256, "rsa-2", claimsAt(now, keep))

	replaceFile(t, path, jwks(t, pubJWK(&k.rsaNew.PublicKey, "rsa-2")))
	steps := []struct {
		name    string
		advance time.Duration
		token   string
		wantErr error
	}{
		{"old token, file replaced, same second", 0, oldTok, nil},
		{"new token, file replaced, same second", 0, newTok, identity.ErrUnauthenticated},
		{"new token, a second later", time.Second, newTok, nil},
		{"old token, a second later", 0, oldTok, identity.ErrUnauthenticated},
	}
	for _, tt := range steps {
		clock.Advance(tt.advance)
		_, err := v.Verify(tt.token)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("Verify(%s) = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}

func TestJWTReloadMethod(t *testing.T) {
	k := testJWTKeys()
	clock := newFakeClock()
	now := clock.Now()
	v, path := newJWTVerifier(t, clock, identity.JWTConfig{})
	replaceFile(t, path, jwks(t, pubJWK(&k.ecOther.PublicKey, "ec-2")))
	if err := v.Reload(); err != nil {
		t.Fatalf("Reload() = %v, want nil", err)
	}
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"new key", sign(t, k.ecOther, jose.ES256, "ec-2", claimsAt(now, keep)), nil},
		{"removed key", sign(t, k.ec, jose.ES256, "ec-1", claimsAt(now, keep)), identity.ErrUnauthenticated},
	}
	for _, tt := range tests {
		_, err := v.Verify(tt.token)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("after Reload, Verify(%s) = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}

func TestJWTBrokenReloadKeepsOldKeys(t *testing.T) {
	k := testJWTKeys()
	clock := newFakeClock()
	now := clock.Now()
	log, logs := bufferLogger()
	v, path := newJWTVerifier(t, clock, identity.JWTConfig{Logger: log})
	tok := sign(t, k.ec, jose.ES256, "ec-1", claimsAt(now, keep))

	replaceFile(t, path, []byte(`{"keys": [`))
	clock.Advance(time.Second)
	if _, err := v.Verify(tok); err != nil {
		t.Errorf("Verify(old key, broken JWKS, automatic reload) = %v, want nil", err)
	}
	if got := strings.Count(logs.String(), "reload failed"); got != 1 {
		t.Errorf("log lines with \"reload failed\" = %d, want 1; log:\n%s", got, logs)
	}
	err := v.Reload()
	if err == nil || errors.Is(err, identity.ErrUnauthenticated) {
		t.Errorf("Reload(broken JWKS) = %v, want a configuration error", err)
	}
	if _, err := v.Verify(tok); err != nil {
		t.Errorf("Verify(old key, broken JWKS, after Reload) = %v, want nil", err)
	}

	replaceFile(t, path, jwks(t, jose.JSONWebKey{Key: k.rsa, KeyID: "private"}))
	clock.Advance(time.Second)
	if _, err := v.Verify(tok); err != nil {
		t.Errorf("Verify(old key, JWKS of private keys) = %v, want nil", err)
	}
	if got := strings.Count(logs.String(), "reload failed"); got != 2 {
		t.Errorf("log lines with \"reload failed\" = %d, want 2; log:\n%s", got, logs)
	}
}

// TestJWTConcurrentReload runs Verify from several goroutines while the
// JWKS file is rotated, for the race detector.
func TestJWTConcurrentReload(t *testing.T) {
	k := testJWTKeys()
	clock := newFakeClock()
	now := clock.Now()
	v, path := newJWTVerifier(t, clock, identity.JWTConfig{})
	tok := sign(t, k.ec, jose.ES256, "ec-1", claimsAt(now, keep))
	both := jwks(t, pubJWK(&k.ec.PublicKey, "ec-1"), pubJWK(&k.rsaNew.PublicKey, "rsa-2"))
	var wg sync.WaitGroup
	errs := make(chan error, 4*50)
	for range 4 {
		wg.Go(func() {
			for range 50 {
				_, err := v.Verify(tok)
				errs <- err
			}
		})
	}
	for range 10 {
		replaceFile(t, path, both)
		clock.Advance(time.Second)
		if err := v.Reload(); err != nil {
			t.Errorf("Reload() = %v, want nil", err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Verify = %v, want nil", err)
		}
	}
}
