package core

import (
	"fmt"
	"time"

	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// ClassSpec configures one data class.
type ClassSpec struct {
	Name      string
	Mode      tokenizer.Mode
	Binary    bool          // accept values that are not UTF-8
	Retention time.Duration // 0 keeps tokens until erased
}

// class is a ClassSpec with the primitives built from its keyring. It is
// immutable; a key rotation builds a new one.
type class struct {
	ClassSpec
	codec   *tokenizer.Codec
	indexer *tokenizer.Indexer
	current uint32
	sealers map[uint32]*tokenizer.Sealer
	ring    *kms.Keyring
}

// Labels for keys derived from a class data key. Token tags and the
// deterministic index come from the class's first key version so they
// stay stable across rotations: rotating them would change every
// deterministic token and invalidate every issued token.
const (
	labelSeal  = "seal/aes-256-gcm"
	labelTag   = "token-tag/hmac-sha256"
	labelIndex = "index/hmac-sha256"
)

func newClass(spec ClassSpec, ring *kms.Keyring) (*class, error) {
	stable, err := ring.Key(ring.Versions()[0])
	if err != nil {
		return nil, fmt.Errorf("class %s: %w", spec.Name, err)
	}
	c := &class{
		ClassSpec: spec,
		codec:     tokenizer.NewCodec(spec.Name, stable.Derive(labelTag)),
		indexer:   tokenizer.NewIndexer(stable.Derive(labelIndex)),
		current:   ring.Current().Version(),
		sealers:   map[uint32]*tokenizer.Sealer{},
		ring:      ring,
	}
	for _, v := range ring.Versions() {
		k, err := ring.Key(v)
		if err != nil {
			continue // retired: no sealer, records under it fail to open
		}
		s, err := tokenizer.NewSealer(spec.Name, k.Derive(labelSeal))
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", spec.Name, err)
		}
		c.sealers[v] = s
	}
	return c, nil
}

func (c *class) sealer(v uint32) (*tokenizer.Sealer, error) {
	s, ok := c.sealers[v]
	if !ok {
		return nil, fmt.Errorf("class %s: %w: %d", c.Name, kms.ErrUnknownVersion, v)
	}
	return s, nil
}
