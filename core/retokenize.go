package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/privacyvault/privacyvault/tokenizer"
)

// RetokenizeItem is one FPE token to move to another key version.
type RetokenizeItem struct {
	Token     string
	Context   string
	Tweak     []byte
	SubjectID string // shred_with_subject classes
}

// Retokenize decrypts fpe tokens of class under key version from and
// encrypts the values under version to, returning the new tokens in
// order. It is how an fpe class changes keys: the owner of the data that
// holds the tokens streams them through, stores the new ones, then sets
// the class's key_version to to. Values never leave the sidecar.
func (s *DataPlane) Retokenize(ctx context.Context, class string, from, to uint32, items []RetokenizeItem) ([]TokenResult, error) {
	if err := s.keysFresh(); err != nil {
		return nil, err
	}
	c, err := s.class(class)
	if err != nil {
		return nil, err
	}
	if c.Mode != tokenizer.FPE {
		return nil, Invalid("class", "retokenize is for fpe classes; %s uses mode %s", c.Name, c.Mode)
	}
	old, err := fpeEngine(c.ClassSpec, c.ring, from)
	if err != nil {
		if c, err = s.reload(ctx, class); err == nil {
			old, err = fpeEngine(c.ClassSpec, c.ring, from)
		}
		if err != nil {
			return nil, Invalid("from_version", "%v", err)
		}
	}
	next, err := fpeEngine(c.ClassSpec, c.ring, to)
	if err != nil {
		return nil, Invalid("to_version", "%v", err)
	}
	res := make([]TokenResult, len(items))
	for i, it := range items {
		tweak, err := s.itemTweak(ctx, c, it.Context, it.Tweak, it.SubjectID, false)
		if errors.Is(err, ErrSubjectErased) {
			err = ErrNotFound
		}
		if err != nil {
			res[i].Err = err
			continue
		}
		v, err := c.Format.Decrypt(old, tweak, it.Token)
		if err != nil {
			res[i].Err = formatError("token", err)
			continue
		}
		tok, err := c.Format.Encrypt(next, tweak, v)
		if err != nil {
			res[i].Err = formatError("token", err)
			continue
		}
		res[i].Token = tok
	}
	for i := range res {
		if res[i].Err != nil && !isItemError(res[i].Err) {
			return nil, fmt.Errorf("core: retokenize: %w", res[i].Err)
		}
	}
	return res, nil
}
