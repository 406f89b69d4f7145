package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/hashicorp/vault/api"

	"github.com/privacyvault/privacyvault/kms"
)

// ensureKEK makes sure the Transit key exists and can encrypt, creating it
// when the config allows. A token that may not read the key's metadata is
// not an error: encrypt and decrypt will tell.
func (p *Provider) ensureKEK(ctx context.Context) error {
	path := p.cfg.TransitMount + "/keys/" + p.cfg.KEKName
	var s *api.Secret
	err := p.call(ctx, "read Transit key "+p.cfg.KEKName, func(ctx context.Context) (err error) {
		s, err = p.client.Logical().ReadWithContext(ctx, path)
		return err
	})
	if err != nil && statusIs(err, http.StatusForbidden) {
		p.log.Debug("token may not read the Transit key; skipping its check", "kek", path)
		return nil
	}
	if err != nil {
		return err
	}
	if s == nil {
		if !p.cfg.CreateKEK {
			return fmt.Errorf("vault: Transit key %s not found at %s (create it in Vault or allow CreateKEK)", path, p.cfg.Address)
		}
		err := p.do(ctx, "create Transit key "+p.cfg.KEKName, func(ctx context.Context) error {
			_, err := p.client.Logical().WriteWithContext(ctx, path, map[string]any{"type": "aes256-gcm96"})
			return err
		})
		if err != nil {
			return err
		}
		p.log.Info("created Transit key", "kek", path)
		return nil
	}
	if derived, _ := s.Data["derived"].(bool); derived {
		return fmt.Errorf("vault: Transit key %s is a derived key; the provider needs a non-derived encryption key", path)
	}
	if enc, ok := s.Data["supports_encryption"].(bool); ok && !enc {
		return fmt.Errorf("vault: Transit key %s does not support encryption", path)
	}
	return nil
}

// wrapHeader binds a data key to its class and version: it prefixes the
// Transit plaintext, and unwrap checks it, since Transit's context works
// only with derived keys.
func wrapHeader(class string, v uint32) []byte {
	return []byte("privacyvault/kms/vault/v1\x00" + class + "\x00" + strconv.FormatUint(uint64(v), 10) + "\x00")
}

// wrap encrypts secret, bound to class and version v, under the KEK and
// returns Transit's ciphertext ("vault:vN:...").
func (p *Provider) wrap(ctx context.Context, class string, v uint32, secret []byte) (string, error) {
	pt := append(wrapHeader(class, v), secret...)
	defer clear(pt)
	body := map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)}
	var s *api.Secret
	err := p.do(ctx, "Transit encrypt for class "+class, func(ctx context.Context) (err error) {
		s, err = p.client.Logical().WriteWithContext(ctx, p.cfg.TransitMount+"/encrypt/"+p.cfg.KEKName, body)
		return err
	})
	if err != nil {
		return "", err
	}
	var ct string
	if s != nil {
		ct, _ = s.Data["ciphertext"].(string)
	}
	if ct == "" {
		return "", fmt.Errorf("vault: Transit encrypt at %s returned no ciphertext", p.cfg.Address)
	}
	return ct, nil
}

// unwrapAll decrypts every version of ring in one Transit batch call and
// returns the keys, each checked against its class and version.
func (p *Provider) unwrapAll(ctx context.Context, class string, ring *kms.Ring) ([]*kms.Key, error) {
	versions := ring.Versions()
	cts := make([]string, len(versions))
	for i, v := range versions {
		cts[i] = ring.Wrapped[v]
	}
	results, err := p.batch(ctx, "decrypt", class, cts)
	if err != nil {
		return nil, err
	}
	keys := make([]*kms.Key, len(versions))
	for i, v := range versions {
		pt, err := base64.StdEncoding.DecodeString(results[i]["plaintext"].(string))
		header := wrapHeader(class, v)
		if err != nil || len(pt) != len(header)+kms.KeySize || !bytes.HasPrefix(pt, header) {
			clear(pt)
			return nil, fmt.Errorf("vault: class %s version %d: wrapped key does not belong to this class and version", class, v)
		}
		secret := bytes.Clone(pt[len(header):])
		clear(pt)
		if keys[i], err = kms.NewKey(v, secret); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// batch runs Transit decrypt or rewrap over ciphertexts in one call and
// returns one result per input, failing if any item failed.
func (p *Provider) batch(ctx context.Context, op, class string, ciphertexts []string) ([]map[string]any, error) {
	input := make([]map[string]any, len(ciphertexts))
	for i, ct := range ciphertexts {
		input[i] = map[string]any{"ciphertext": ct}
	}
	var s *api.Secret
	what := fmt.Sprintf("Transit %s of keyring %s", op, class)
	err := p.do(ctx, what, func(ctx context.Context) (err error) {
		s, err = p.client.Logical().WriteWithContext(ctx, p.cfg.TransitMount+"/"+op+"/"+p.cfg.KEKName,
			map[string]any{"batch_input": input})
		return err
	})
	if statusIs(err, http.StatusBadRequest) {
		return nil, fmt.Errorf("%w (a wrapped key does not %s under Transit key %s: wrong key, retired key version or altered ciphertext)",
			err, op, p.cfg.KEKName)
	}
	if err != nil {
		return nil, err
	}
	raw, _ := s.Data["batch_results"].([]any)
	if len(raw) != len(ciphertexts) {
		return nil, fmt.Errorf("vault: %s at %s: got %d results for %d keys", what, p.cfg.Address, len(raw), len(ciphertexts))
	}
	out := make([]map[string]any, len(raw))
	want := map[string]string{"decrypt": "plaintext", "rewrap": "ciphertext"}[op]
	for i, r := range raw {
		m, _ := r.(map[string]any)
		if msg, _ := m["error"].(string); msg != "" {
			return nil, fmt.Errorf("vault: %s at %s: item %d: %s", what, p.cfg.Address, i, msg)
		}
		if _, ok := m[want].(string); !ok {
			return nil, errors.New("vault: " + what + ": result without " + want)
		}
		out[i] = m
	}
	return out, nil
}
