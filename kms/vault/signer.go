package vault

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/privacyvault/privacyvault/audit"
)

var (
	_ audit.CheckpointSigner  = (*TransitSigner)(nil)
	_ audit.CheckpointSigning = (*Provider)(nil)
	_ audit.HeadKeeping       = (*Provider)(nil)
)

// CheckpointSigner implements audit.CheckpointSigning with AuditSigner.
func (p *Provider) CheckpointSigner(ctx context.Context, name string, create bool) (audit.CheckpointSigner, error) {
	s, err := p.AuditSigner(ctx, name, create)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// TransitSigner signs audit checkpoints with a Vault Transit signing key
// (ed25519), so the signing key never leaves Vault and rotating it is a
// Vault operation. Key ids look like "vault:transit/privacyvault-audit:v3".
type TransitSigner struct {
	p    *Provider
	name string
}

// AuditSigner returns a TransitSigner for the Transit key name, creating
// it (type ed25519) if it is missing and create is set.
func (p *Provider) AuditSigner(ctx context.Context, name string, create bool) (*TransitSigner, error) {
	path := p.cfg.TransitMount + "/keys/" + name
	err := p.call(ctx, "read Transit signing key "+name, func(ctx context.Context) error {
		s, err := p.client.Logical().ReadWithContext(ctx, path)
		if err != nil || s != nil {
			return err
		}
		if !create {
			return fmt.Errorf("vault: Transit signing key %s not found at %s", path, p.cfg.Address)
		}
		_, err = p.client.Logical().WriteWithContext(ctx, path, map[string]any{"type": "ed25519"})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &TransitSigner{p: p, name: name}, nil
}

func (t *TransitSigner) keyID(version string) string {
	return "vault:" + t.p.cfg.TransitMount + "/" + t.name + ":" + version
}

// Sign implements audit.Signer with Transit sign.
func (t *TransitSigner) Sign(ctx context.Context, msg []byte) ([]byte, string, error) {
	var sig string
	err := t.p.do(ctx, "sign audit checkpoint", func(ctx context.Context) error {
		s, err := t.p.client.Logical().WriteWithContext(ctx, t.p.cfg.TransitMount+"/sign/"+t.name,
			map[string]any{"input": base64.StdEncoding.EncodeToString(msg)})
		if err != nil {
			return err
		}
		if s == nil {
			return errors.New("vault: empty sign response")
		}
		sig, _ = s.Data["signature"].(string)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	// "vault:v3:<base64>": the version goes into the key id, the raw
	// signature into the checkpoint.
	parts := strings.SplitN(sig, ":", 3)
	if len(parts) != 3 || parts[0] != "vault" {
		return nil, "", errors.New("vault: malformed Transit signature")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, "", fmt.Errorf("vault: malformed Transit signature: %w", err)
	}
	return raw, t.keyID(parts[1]), nil
}

// Verify implements audit.Verifier with Transit verify.
func (t *TransitSigner) Verify(keyID string, msg, sig []byte) error {
	prefix := "vault:" + t.p.cfg.TransitMount + "/" + t.name + ":"
	version, ok := strings.CutPrefix(keyID, prefix)
	if !ok {
		return fmt.Errorf("%w: %s", audit.ErrUnknownKey, keyID)
	}
	var valid bool
	err := t.p.do(context.Background(), "verify audit checkpoint", func(ctx context.Context) error {
		s, err := t.p.client.Logical().WriteWithContext(ctx, t.p.cfg.TransitMount+"/verify/"+t.name, map[string]any{
			"input":     base64.StdEncoding.EncodeToString(msg),
			"signature": "vault:" + version + ":" + base64.StdEncoding.EncodeToString(sig),
		})
		if err != nil {
			return err
		}
		if s != nil {
			valid, _ = s.Data["valid"].(bool)
		}
		return nil
	})
	var re *api.ResponseError
	switch {
	case errors.As(err, &re) && re.StatusCode == 400:
		// Vault refused the signature itself (malformed): a finding.
		return fmt.Errorf("%w: %v", audit.ErrBadSignature, err)
	case err != nil:
		// Vault could not be asked (outage, permissions): not a finding.
		return fmt.Errorf("%w: %w", audit.ErrVerifierUnavailable, err)
	case !valid:
		return audit.ErrBadSignature
	}
	return nil
}

var _ audit.KeySource = (*TransitSigner)(nil)

// PublicKeys implements audit.KeySource: every version of the Transit
// key, by the key id Sign reports for it. Transit signs ed25519 input
// unhashed, so the keys verify checkpoints and receipts directly.
func (t *TransitSigner) PublicKeys(ctx context.Context) (map[string]ed25519.PublicKey, error) {
	var s *api.Secret
	err := t.p.do(ctx, "read audit signing key", func(ctx context.Context) (err error) {
		s, err = t.p.client.Logical().ReadWithContext(ctx, t.p.cfg.TransitMount+"/keys/"+t.name)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errors.New("vault: audit signing key not found")
	}
	versions, _ := s.Data["keys"].(map[string]any)
	out := map[string]ed25519.PublicKey{}
	for v, info := range versions {
		m, _ := info.(map[string]any)
		b64, _ := m["public_key"].(string)
		pub, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("vault: audit signing key version %s has no ed25519 public key", v)
		}
		out[t.keyID("v"+v)] = ed25519.PublicKey(pub)
	}
	if len(out) == 0 {
		return nil, errors.New("vault: audit signing key has no versions")
	}
	return out, nil
}
