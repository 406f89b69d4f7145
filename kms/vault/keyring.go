package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/privacyvault/privacyvault/kms"
)

// storedRing is a class keyring as stored in KV: the current version, the
// minimum decryption version and each version's Transit ciphertext.
type storedRing struct {
	Current    uint32            `json:"current"`
	MinDecrypt uint32            `json:"min_decryption_version"`
	Versions   map[string]string `json:"versions"` // "1" → "vault:v1:..."
}

// ring returns r as a kms.Ring after checking its entries.
func (r *storedRing) ring() (*kms.Ring, error) {
	out := &kms.Ring{Current: r.Current, MinDecrypt: r.MinDecrypt, Wrapped: make(map[uint32]string, len(r.Versions))}
	for k, ct := range r.Versions {
		v, err := strconv.ParseUint(k, 10, 32)
		if err != nil || v == 0 || !strings.HasPrefix(ct, "vault:v") {
			return nil, fmt.Errorf("bad version entry %q", k)
		}
		out.Wrapped[uint32(v)] = ct
	}
	return out, out.Validate()
}

func stored(r *kms.Ring) *storedRing {
	out := &storedRing{Current: r.Current, MinDecrypt: r.MinDecrypt, Versions: make(map[string]string, len(r.Wrapped))}
	for v, ct := range r.Wrapped {
		out.Versions[strconv.FormatUint(uint64(v), 10)] = ct
	}
	return out
}

// checkClass rejects class names that are not one plain path segment.
func checkClass(class string) error {
	if len(class) > 128 || !segment.MatchString(class) {
		return fmt.Errorf("vault: invalid class name %q (want letters, digits, '_', '-' or '.')", class)
	}
	return nil
}

func (p *Provider) ringPath(class string) string {
	return p.cfg.KVMount + "/data/" + p.cfg.KVPrefix + "/keyrings/" + class
}

// Keyring implements kms.Provider.
func (p *Provider) Keyring(ctx context.Context, class string) (*kms.Keyring, error) {
	if err := checkClass(class); err != nil {
		return nil, err
	}
	return p.rings.Keyring(ctx, class)
}

// Rotate implements kms.Provider.
func (p *Provider) Rotate(ctx context.Context, class string) (*kms.Keyring, error) {
	if err := checkClass(class); err != nil {
		return nil, err
	}
	return p.rings.Rotate(ctx, class)
}

// SetMinDecryptionVersion implements kms.Provider.
func (p *Provider) SetMinDecryptionVersion(ctx context.Context, class string, v uint32) (*kms.Keyring, error) {
	if err := checkClass(class); err != nil {
		return nil, err
	}
	return p.rings.SetMinDecryptionVersion(ctx, class, v)
}

// Rewrap implements kms.Provider: Transit rewrap of every stored data key
// of every class, one batch call and one check-and-set write per class.
func (p *Provider) Rewrap(ctx context.Context) (int, error) {
	classes, err := p.listClasses(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, class := range classes {
		n := 0
		_, err := p.rings.Update(ctx, class, func(r *kms.Ring) (*kms.Ring, error) {
			if r == nil {
				n = 0
				return nil, nil
			}
			versions := r.Versions()
			cts := make([]string, len(versions))
			for i, v := range versions {
				cts[i] = r.Wrapped[v]
			}
			results, err := p.batch(ctx, "rewrap", class, cts)
			if err != nil {
				return nil, err
			}
			for i, v := range versions {
				r.Wrapped[v] = results[i]["ciphertext"].(string)
			}
			n = len(versions)
			return r, nil
		})
		if err != nil {
			return total, err
		}
		total += n
	}
	if total > 0 {
		p.log.Info("re-wrapped data keys under the newest Transit key version", "keys", total, "classes", len(classes))
	}
	return total, nil
}

// ringStore is the Provider as the kms.RingStore of its keyrings: KV
// version 2 with check-and-set, and Transit.
type ringStore struct{ *Provider }

var _ kms.RingStore = ringStore{}

// ReadRing implements kms.RingStore.
func (p ringStore) ReadRing(ctx context.Context, class string) (*kms.Ring, int, error) {
	r, cas, err := p.readRing(ctx, class)
	if err != nil || r == nil {
		return nil, cas, err
	}
	ring, err := r.ring()
	if err != nil {
		return nil, 0, fmt.Errorf("vault: keyring %s is malformed: %w", p.ringPath(class), err)
	}
	return ring, cas, nil
}

// CompareAndSet implements kms.RingStore with KV check-and-set.
func (p ringStore) CompareAndSet(ctx context.Context, class string, r *kms.Ring, cas int) error {
	err := p.writeRing(ctx, class, stored(r), cas)
	if casMismatch(err) {
		return fmt.Errorf("%w: %w", kms.ErrConflict, err)
	}
	return err
}

// Wrap implements kms.RingStore.
func (p ringStore) Wrap(ctx context.Context, class string, v uint32, secret []byte) (string, error) {
	return p.wrap(ctx, class, v, secret)
}

// Unwrap implements kms.RingStore.
func (p ringStore) Unwrap(ctx context.Context, class string, r *kms.Ring) ([]*kms.Key, error) {
	return p.unwrapAll(ctx, class, r)
}

// readRing reads class's keyring and the KV version to use as
// check-and-set value: (nil, 0) when the class has none.
func (p *Provider) readRing(ctx context.Context, class string) (*storedRing, int, error) {
	path := p.ringPath(class)
	var s *api.Secret
	err := p.do(ctx, "read keyring "+class, func(ctx context.Context) (err error) {
		s, err = p.client.Logical().ReadWithContext(ctx, path)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	if s == nil {
		return nil, 0, nil
	}
	meta, _ := s.Data["metadata"].(map[string]any)
	version, ok := jsonInt(meta["version"])
	if !ok {
		return nil, 0, fmt.Errorf("vault: %s is not a KV version 2 secret (no version metadata)", path)
	}
	data, _ := s.Data["data"].(map[string]any)
	if data == nil {
		return nil, 0, fmt.Errorf("vault: keyring of class %s at %s was deleted (KV version %d); undelete it, its keys are needed to read existing data", class, path, version)
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, 0, fmt.Errorf("vault: keyring %s: %w", path, err)
	}
	var ring storedRing
	if err := json.Unmarshal(b, &ring); err != nil {
		return nil, 0, fmt.Errorf("vault: keyring %s is malformed: %w", path, err)
	}
	return &ring, int(version), nil
}

// writeRing writes ring with check-and-set version cas (0: must not exist).
func (p *Provider) writeRing(ctx context.Context, class string, ring *storedRing, cas int) error {
	b, err := json.Marshal(ring)
	if err != nil {
		return err
	}
	var data map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		return err
	}
	path := p.ringPath(class)
	body := map[string]any{"options": map[string]any{"cas": cas}, "data": data}
	return p.do(ctx, "write keyring "+class, func(ctx context.Context) error {
		s, err := p.client.Logical().WriteWithContext(ctx, path, body)
		if err != nil {
			return err
		}
		if s == nil || s.Data["version"] == nil {
			return fmt.Errorf("mount %s is not a KV version 2 secrets engine", p.cfg.KVMount)
		}
		return nil
	})
}

// listClasses returns the classes that have a keyring.
func (p *Provider) listClasses(ctx context.Context) ([]string, error) {
	path := p.cfg.KVMount + "/metadata/" + p.cfg.KVPrefix + "/keyrings"
	var keys []any
	err := p.do(ctx, "list keyrings", func(ctx context.Context) error {
		s, err := p.client.Logical().ListWithContext(ctx, path)
		if err == nil && s != nil {
			keys, _ = s.Data["keys"].([]any)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var classes []string
	for _, k := range keys {
		if s, ok := k.(string); ok && !strings.HasSuffix(s, "/") {
			classes = append(classes, s)
		}
	}
	return classes, nil
}

// jsonInt reads an integer that arrived as a JSON number.
func jsonInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case float64:
		return int64(n), true
	}
	return 0, false
}
