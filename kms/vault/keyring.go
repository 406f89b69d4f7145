package vault

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

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

// versions returns the version numbers held, ascending. validate has
// checked that every key parses.
func (r *storedRing) versions() []uint32 {
	out := make([]uint32, 0, len(r.Versions))
	for k := range r.Versions {
		v, _ := strconv.ParseUint(k, 10, 32)
		out = append(out, uint32(v))
	}
	slices.Sort(out)
	return out
}

func (r *storedRing) clone() *storedRing {
	c := *r
	c.Versions = maps.Clone(r.Versions)
	return &c
}

func (r *storedRing) validate() error {
	for k, ct := range r.Versions {
		if v, err := strconv.ParseUint(k, 10, 32); err != nil || v == 0 || !strings.HasPrefix(ct, "vault:v") {
			return fmt.Errorf("bad version entry %q", k)
		}
	}
	if _, ok := r.Versions[strconv.FormatUint(uint64(r.Current), 10)]; !ok {
		return fmt.Errorf("current version %d missing", r.Current)
	}
	if r.MinDecrypt > r.Current {
		return fmt.Errorf("min decryption version %d above current %d", r.MinDecrypt, r.Current)
	}
	return nil
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
	ring, _, err := p.readRing(ctx, class)
	if err != nil {
		return nil, err
	}
	if ring == nil {
		ring, err = p.update(ctx, class, func(r *storedRing) (*storedRing, error) {
			if r != nil {
				return nil, nil // another sidecar created it first
			}
			return p.addVersion(ctx, class, nil)
		})
		if err != nil {
			return nil, err
		}
	}
	return p.unwrap(ctx, class, ring)
}

// Rotate implements kms.Provider.
func (p *Provider) Rotate(ctx context.Context, class string) (*kms.Keyring, error) {
	if err := checkClass(class); err != nil {
		return nil, err
	}
	ring, err := p.update(ctx, class, func(r *storedRing) (*storedRing, error) {
		return p.addVersion(ctx, class, r)
	})
	if err != nil {
		return nil, err
	}
	return p.unwrap(ctx, class, ring)
}

// SetMinDecryptionVersion implements kms.Provider.
func (p *Provider) SetMinDecryptionVersion(ctx context.Context, class string, v uint32) (*kms.Keyring, error) {
	if err := checkClass(class); err != nil {
		return nil, err
	}
	ring, err := p.update(ctx, class, func(r *storedRing) (*storedRing, error) {
		if r == nil {
			return nil, fmt.Errorf("vault: class %s has no keyring", class)
		}
		if v < 1 || v > r.Current {
			return nil, fmt.Errorf("%w: %d (class %s has versions 1 to %d)", kms.ErrInvalidVersion, v, class, r.Current)
		}
		if r.MinDecrypt == v {
			return nil, nil
		}
		next := r.clone()
		next.MinDecrypt = v
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	return p.unwrap(ctx, class, ring)
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
		_, err := p.update(ctx, class, func(r *storedRing) (*storedRing, error) {
			if r == nil {
				n = 0
				return nil, nil
			}
			versions := r.versions()
			cts := make([]string, len(versions))
			for i, v := range versions {
				cts[i] = r.Versions[strconv.FormatUint(uint64(v), 10)]
			}
			results, err := p.batch(ctx, "rewrap", class, cts)
			if err != nil {
				return nil, err
			}
			next := r.clone()
			for i, v := range versions {
				next.Versions[strconv.FormatUint(uint64(v), 10)] = results[i]["ciphertext"].(string)
			}
			n = len(versions)
			return next, nil
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

// addVersion returns a copy of r (nil: no keyring yet) with a fresh data
// key as the new current version.
func (p *Provider) addVersion(ctx context.Context, class string, r *storedRing) (*storedRing, error) {
	next := &storedRing{Versions: map[string]string{}}
	if r != nil {
		next = r.clone()
	}
	v := next.Current + 1
	secret := make([]byte, kms.KeySize)
	rand.Read(secret)
	defer clear(secret)
	ct, err := p.wrap(ctx, class, v, secret)
	if err != nil {
		return nil, err
	}
	next.Versions[strconv.FormatUint(uint64(v), 10)] = ct
	next.Current = v
	return next, nil
}

// unwrap turns a stored ring into a kms.Keyring.
func (p *Provider) unwrap(ctx context.Context, class string, r *storedRing) (*kms.Keyring, error) {
	keys, err := p.unwrapAll(ctx, class, r)
	if err != nil {
		return nil, err
	}
	return kms.NewKeyring(class, r.Current, r.MinDecrypt, keys)
}

// update applies change to class's keyring with KV check-and-set. change
// gets the stored ring (nil if the class has none) and returns the ring to
// write, or nil to write nothing. On a check-and-set conflict, update reads
// again and re-applies change, so concurrent writers never lose each
// other's changes. It returns the ring now stored.
func (p *Provider) update(ctx context.Context, class string, change func(*storedRing) (*storedRing, error)) (*storedRing, error) {
	for attempt := 1; ; attempt++ {
		cur, cas, err := p.readRing(ctx, class)
		if err != nil {
			return nil, err
		}
		next, err := change(cur)
		if err != nil {
			return nil, err
		}
		if next == nil {
			return cur, nil
		}
		err = p.writeRing(ctx, class, next, cas)
		if err == nil {
			return next, nil
		}
		if !casMismatch(err) || attempt == defaultCASAttempts {
			return nil, err
		}
		p.log.Debug("keyring changed concurrently; retrying", "class", class, "attempt", attempt)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(1+mrand.IntN(10*attempt)) * time.Millisecond):
		}
	}
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
	if err := ring.validate(); err != nil {
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
