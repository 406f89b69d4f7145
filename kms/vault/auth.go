package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
)

// authenticate obtains a token for the configured method and installs it
// on the client: it logs in (AppRole, Kubernetes) or reads and looks up the
// token (token). stale is the token a caller saw rejected; if the client's
// token already changed since, another goroutine has logged in and the call
// returns at once. The returned secret's Auth block describes the token's
// lease for the renewal loop.
func (p *Provider) authenticate(ctx context.Context, stale string) (*api.Secret, error) {
	p.authMu.Lock()
	defer p.authMu.Unlock()
	if stale != "" && p.client.Token() != stale {
		return nil, nil
	}
	a := p.cfg.Auth
	var secret *api.Secret
	var err error
	switch a.Method {
	case AuthToken:
		secret, err = p.tokenLogin(ctx)
	case AuthAppRole:
		secret, err = p.login(ctx, map[string]any{"role_id": a.RoleID}, "secret_id", a.SecretIDFile)
	case AuthKubernetes:
		secret, err = p.login(ctx, map[string]any{"role": a.Role}, "jwt", a.JWTFile)
	}
	if err != nil {
		return nil, err
	}
	p.client.SetToken(secret.Auth.ClientToken)
	p.log.Info("authenticated to Vault", "auth_method", a.Method,
		"ttl", time.Duration(secret.Auth.LeaseDuration)*time.Second, "renewable", secret.Auth.Renewable)
	if stale != "" {
		select { // hand the new lease to the renewal loop, replacing an unread one
		case <-p.authCh:
		default:
		}
		p.authCh <- secret
	}
	return secret, nil
}

// login posts to auth/<mount>/login with body plus the credential read from
// file under key.
func (p *Provider) login(ctx context.Context, body map[string]any, key, file string) (*api.Secret, error) {
	method := p.cfg.Auth.Method
	cred, err := readSecretFile(file)
	if err != nil {
		return nil, fmt.Errorf("vault: %s login: %w", method, err)
	}
	body[key] = cred
	// Log in with a token-less clone: a stale token must not ride along.
	lc, err := p.client.Clone()
	if err != nil {
		return nil, fmt.Errorf("vault: %s login: %w", method, err)
	}
	lc.ClearToken()
	var s *api.Secret
	path := "auth/" + p.cfg.Auth.MountPath + "/login"
	err = p.call(ctx, method+" login", func(ctx context.Context) (err error) {
		s, err = lc.Logical().WriteWithContext(ctx, path, body)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return nil, fmt.Errorf("vault: %s login at %s returned no token", method, p.cfg.Address)
	}
	return s, nil
}

// tokenLogin installs the static or file token and looks it up, which
// checks it and learns its TTL.
func (p *Provider) tokenLogin(ctx context.Context) (*api.Secret, error) {
	token := p.cfg.Auth.Token
	if p.cfg.Auth.TokenFile != "" {
		var err error
		if token, err = readSecretFile(p.cfg.Auth.TokenFile); err != nil {
			return nil, fmt.Errorf("vault: token: %w", err)
		}
	}
	lc, err := p.client.Clone()
	if err != nil {
		return nil, fmt.Errorf("vault: token: %w", err)
	}
	lc.SetToken(token)
	var s *api.Secret
	err = p.call(ctx, "token lookup", func(ctx context.Context) (err error) {
		s, err = lc.Auth().Token().LookupSelfWithContext(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("vault: token lookup at %s returned nothing", p.cfg.Address)
	}
	renewable, _ := s.TokenIsRenewable()
	ttl, _ := s.TokenTTL()
	return &api.Secret{Auth: &api.SecretAuth{
		ClientToken:   token,
		Renewable:     renewable,
		LeaseDuration: int(ttl / time.Second),
	}}, nil
}

// readSecretFile returns a credential file's content without surrounding
// whitespace. Its content never appears in an error.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read credential file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("credential file %s is empty", path)
	}
	return s, nil
}

// keepAlive renews the token with the client's LifetimeWatcher while it is
// renewable and logs in again (or, for method token, re-reads the token)
// when renewal fails or the lease ends. A token without TTL needs nothing.
func (p *Provider) keepAlive(ctx context.Context, secret *api.Secret) {
	defer close(p.done)
	for {
		if secret == nil || secret.Auth.LeaseDuration <= 0 {
			select { // nothing to renew until someone logs in again
			case <-ctx.Done():
				return
			case secret = <-p.authCh:
				continue
			}
		}
		next, err := p.watch(ctx, secret)
		if ctx.Err() != nil {
			return
		}
		if next != nil {
			secret = next
			continue
		}
		if err != nil {
			p.log.Warn("Vault token renewal failed; logging in again", "error", err)
		} else {
			p.log.Info("Vault token lease ending; logging in again")
		}
		secret = p.relogin(ctx, secret.Auth.ClientToken)
	}
}

// watch runs one LifetimeWatcher over secret until its lease can no longer
// be extended (returning the watcher's error), or until someone else logged
// in (returning the new secret).
func (p *Provider) watch(ctx context.Context, secret *api.Secret) (*api.Secret, error) {
	w, err := p.client.NewLifetimeWatcher(&api.LifetimeWatcherInput{Secret: secret})
	if err != nil {
		return nil, err
	}
	go w.Start()
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, nil
		case s := <-p.authCh:
			return s, nil
		case err := <-w.DoneCh():
			return nil, err
		case r := <-w.RenewCh():
			if r.Secret != nil && r.Secret.Auth != nil {
				p.log.Debug("Vault token renewed", "ttl", time.Duration(r.Secret.Auth.LeaseDuration)*time.Second)
			}
		}
	}
}

// relogin authenticates until it succeeds or ctx ends, backing off from one
// second to defaultReloginPeriod. A static token cannot be replaced, so for
// it relogin only waits for another login.
func (p *Provider) relogin(ctx context.Context, old string) *api.Secret {
	a := p.cfg.Auth
	if a.Method == AuthToken && a.TokenFile == "" {
		p.log.Warn("Vault token cannot be renewed any longer and will expire; configure a renewable token, a token file or a login method")
		return nil
	}
	wait := time.Second
	for {
		secret, err := p.authenticate(ctx, "")
		switch {
		case err == nil && (a.Method != AuthToken || secret.Auth.ClientToken != old):
			return secret
		case err == nil:
			err = errors.New("token file still holds the same token")
			wait = defaultReloginPeriod
		}
		p.log.Warn("Vault login failed; retrying", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case s := <-p.authCh:
			return s
		case <-time.After(wait):
		}
		wait = min(2*wait, defaultReloginPeriod)
	}
}
