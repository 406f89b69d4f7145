package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/peer"

	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/identity"
)

// authenticator finds the caller's identity, trying in order: the mTLS
// client certificate (SPIFFE ID), the Unix socket peer's uid, a JWT bearer
// token, and — in dev mode only — a static bearer token.
type authenticator struct {
	spiffe *identity.SPIFFEVerifier // also configures the TLS listener
	uids   identity.Verifier
	jwt    identity.Verifier
	static identity.Verifier
}

func newAuthenticator(cfg *config.Config, dev bool, log *slog.Logger) (*authenticator, error) {
	a := &authenticator{}
	if j := cfg.Identity.JWT; j != nil {
		v, err := identity.NewJWTVerifier(identity.JWTConfig{
			JWKSFile: j.JWKSFile, Issuer: j.Issuer, Audience: j.Audience,
			ClockSkew: j.ClockSkew.Std(), IdentityClaim: j.IdentityClaim, Logger: log,
		})
		if err != nil {
			return nil, fmt.Errorf("identity.jwt: %w", err)
		}
		a.jwt = v
	}
	if m := cfg.Identity.MTLS; m != nil {
		v, err := identity.NewSPIFFEVerifier(identity.SPIFFEConfig{CABundleFile: m.CABundleFile, TrustDomain: m.TrustDomain, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("identity.mtls: %w", err)
		}
		a.spiffe = v
	}
	if len(cfg.Identity.UnixUIDs) > 0 {
		m := map[uint32]identity.Identity{}
		for uid, id := range cfg.Identity.UnixUIDs {
			m[uid] = identity.Identity(id)
		}
		a.uids = identity.NewUIDMap(m)
	}
	switch {
	case len(cfg.Callers) > 0 && !dev:
		return nil, errors.New("callers (static bearer tokens) are for --dev only: configure identity.jwt, identity.mtls or identity.unix_uids")
	case len(cfg.Callers) > 0:
		a.static = identity.NewStaticTokens(staticTokens(cfg))
	}
	if a.spiffe == nil && a.uids == nil && a.jwt == nil && a.static == nil {
		return nil, errors.New("no caller identity source: configure identity.jwt, identity.mtls or identity.unix_uids (or callers with --dev)")
	}
	return a, nil
}

// authenticate implements the go-grpc-middleware auth function.
func (a *authenticator) authenticate(ctx context.Context) (identity.Identity, error) {
	if p, ok := peer.FromContext(ctx); ok {
		switch info := p.AuthInfo.(type) {
		case credentials.TLSInfo:
			if a.spiffe != nil && len(info.State.PeerCertificates) > 0 {
				return a.spiffe.Authenticate(identity.Credential{PeerCertificates: info.State.PeerCertificates})
			}
		case peerCredInfo:
			if a.uids != nil {
				return a.uids.Authenticate(identity.Credential{UID: info.uid, HasUID: true})
			}
		}
	}
	tok, err := auth.AuthFromMD(ctx, "bearer")
	if err != nil {
		return "", identity.ErrUnauthenticated
	}
	if a.jwt != nil && looksLikeJWT(tok) {
		return a.jwt.Authenticate(identity.Credential{Bearer: tok})
	}
	if a.static != nil {
		return a.static.Authenticate(identity.Credential{Bearer: tok})
	}
	return "", identity.ErrUnauthenticated
}

func looksLikeJWT(tok string) bool {
	dots := 0
	for i := 0; i < len(tok); i++ {
		if tok[i] == '.' {
			dots++
		}
	}
	return dots == 2
}

// transportCredentials returns TLS credentials when mTLS is configured,
// peer-credential reading ones on a Unix socket with a uid map, and
// plaintext otherwise (loopback sidecars).
func (a *authenticator) transportCredentials(cfg *config.Config, unixSocket bool) (credentials.TransportCredentials, error) {
	if m := cfg.Identity.MTLS; m != nil {
		tc, err := a.tlsConfig(m)
		if err != nil {
			return nil, err
		}
		return credentials.NewTLS(tc), nil
	}
	if unixSocket && a.uids != nil {
		return peerCreds{TransportCredentials: insecure.NewCredentials()}, nil
	}
	return insecure.NewCredentials(), nil
}

// tlsConfig is the server side of mTLS, shared by gRPC and the HTTP
// gateway. It accepts any client certificate at the handshake and verifies
// it in the auth interceptor against the current bundle: a certificate from
// another CA then gets a clear Unauthenticated instead of a torn
// connection. Every RPC but health and reflection checks it.
func (a *authenticator) tlsConfig(m *config.MTLS) (*tls.Config, error) {
	tc, err := a.spiffe.TLSConfig(m.CertFile, m.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("identity.mtls: %w", err)
	}
	perClient := tc.GetConfigForClient
	tc.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		c, err := perClient(h)
		if err != nil {
			return nil, err
		}
		c = c.Clone()
		c.ClientAuth = tls.RequestClientCert
		return c, nil
	}
	return tc, nil
}

// peerCreds reads SO_PEERCRED from each accepted Unix connection, so the
// auth function can map the peer's uid to an identity.
type peerCreds struct {
	credentials.TransportCredentials
}

type peerCredInfo struct {
	credentials.CommonAuthInfo
	uid uint32
}

func (peerCredInfo) AuthType() string { return "peercred" }

func (p peerCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return conn, nil, errors.New("peer credentials need a Unix socket")
	}
	uid, err := identity.PeerUID(uc)
	if err != nil {
		return nil, nil, err
	}
	return conn, peerCredInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}, uid: uid}, nil
}

func (p peerCreds) Clone() credentials.TransportCredentials {
	return peerCreds{TransportCredentials: p.TransportCredentials.Clone()}
}
