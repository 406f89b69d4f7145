// Package core is the data plane: it checks items, applies a class's token
// mode with its keys, reads and writes the store and asks policy what a
// caller may see. It knows nothing of gRPC; the server maps its results.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/tokenizer"
	"github.com/privacyvault/privacyvault/tokenizer/format"
)

// Store is the part of store.Store the data plane and its jobs use.
type Store interface {
	Insert(ctx context.Context, recs []store.Record) ([]store.Outcome, error)
	Get(ctx context.Context, class string, id []byte) (store.Record, error)
	LookupIndex(ctx context.Context, class string, index []byte) (store.Record, error)
	Scan(ctx context.Context, class string, after []byte, limit int) ([]store.Record, error)
	Replace(ctx context.Context, old, new store.Record) error
	GetMeta(ctx context.Context, name string) ([]byte, error)
	PutMeta(ctx context.Context, name string, value []byte) error
}

// KeyProvider supplies class keyrings and changes them.
type KeyProvider interface {
	Keyring(ctx context.Context, class string) (*kms.Keyring, error)
	Rotate(ctx context.Context, class string) (*kms.Keyring, error)
	SetMinDecryptionVersion(ctx context.Context, class string, v uint32) (*kms.Keyring, error)
	Rewrap(ctx context.Context) (int, error)
}

// Policy decides reveal levels.
type Policy interface {
	Decide(identity, purpose, class string) policy.Reveal
}

// Config configures New.
type Config struct {
	Classes       []ClassSpec
	Store         Store
	Keys          KeyProvider
	Policy        Policy
	MaxValueBytes int
	// GracePeriod is how long the data plane keeps serving from cached keys
	// after the key provider was last reached; 0 means forever (the
	// development provider is local and cannot be unreachable).
	GracePeriod time.Duration
	// Logger receives key refresh and job logs; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Service is the data plane. It is safe for concurrent use.
type Service struct {
	classes  map[string]*slot
	store    Store
	keys     KeyProvider
	policy   Policy
	maxValue int
	grace    time.Duration
	log      *slog.Logger
	now      func() time.Time
	lastSync atomic.Int64 // unix nanos of the last complete keyring refresh
	jobs     jobs
}

// maxCollisionRounds bounds retries after random-ID collisions; with
// 128-bit IDs even one retry means the random source is broken.
const maxCollisionRounds = 4

// New loads every class's keyring (so the data path makes no key-provider
// call) and returns the service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	s := &Service{
		classes:  map[string]*slot{},
		store:    cfg.Store,
		keys:     cfg.Keys,
		policy:   cfg.Policy,
		maxValue: cfg.MaxValueBytes,
		grace:    cfg.GracePeriod,
		log:      cfg.Logger,
		now:      cfg.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.jobs.running = map[string]*job{}
	s.jobs.base, s.jobs.stop = context.WithCancel(context.Background())
	for _, spec := range cfg.Classes {
		s.classes[spec.Name] = &slot{spec: spec}
	}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// TokenizeItem is one value to tokenize.
type TokenizeItem struct {
	Class string
	Value []byte
	// Context is mixed into the FPE and hash tweak; Tweak is the FF3-1
	// tweak of ff3-1 classes. Vaulted modes ignore both.
	Context string
	Tweak   []byte
}

// TokenResult is a token or the reason there is none.
type TokenResult struct {
	Token string
	Err   error
}

// Tokenize tokenizes items; results align with items. The error is for
// failures of the whole batch (storage), never for one bad item.
func (s *Service) Tokenize(ctx context.Context, items []TokenizeItem) ([]TokenResult, error) {
	if err := s.keysFresh(); err != nil {
		return nil, err
	}
	res := make([]TokenResult, len(items))
	var (
		recs []store.Record
		pos  []int // pos[j] is the item index of recs[j]
	)
	now := s.now().UTC()
	for i, it := range items {
		c, err := s.checkValue(it.Class, it.Value)
		if err != nil {
			res[i].Err = err
			continue
		}
		if !c.Mode.Vaulted() {
			tok, err := s.transform(c, it)
			if err != nil && !isItemError(err) {
				return nil, err
			}
			res[i] = TokenResult{Token: tok, Err: err}
			continue
		}
		r := store.Record{Class: c.Name, ID: tokenizer.NewID(), KeyVersion: c.current, CreatedAt: now}
		if c.Mode == tokenizer.Deterministic {
			r.Index = c.indexer.Index(it.Value)
		}
		if c.Retention > 0 {
			r.ExpiresAt = now.Add(c.Retention)
		}
		sealer, err := c.sealer(c.current)
		if err != nil {
			return nil, err
		}
		r.Ciphertext = sealer.Seal(r.ID, it.Value)
		recs = append(recs, r)
		pos = append(pos, i)
	}
	for round := 0; len(recs) > 0; round++ {
		if round == maxCollisionRounds {
			return nil, errors.New("core: token identifiers keep colliding; the random source is broken")
		}
		out, err := s.store.Insert(ctx, recs)
		if err != nil {
			return nil, fmt.Errorf("core: tokenize: %w", err)
		}
		var retry []store.Record
		var retryPos []int
		for j, o := range out {
			c := s.classes[recs[j].Class].load()
			switch o.Status {
			case store.Inserted, store.Existing:
				res[pos[j]].Token = c.codec.Encode(o.ID)
			default:
				r := recs[j]
				r.ID = tokenizer.NewID()
				sealer, _ := c.sealer(r.KeyVersion)
				value, err := sealer.Open(recs[j].ID, recs[j].Ciphertext)
				if err != nil {
					return nil, fmt.Errorf("core: reseal after collision: %w", err)
				}
				r.Ciphertext = sealer.Seal(r.ID, value)
				retry = append(retry, r)
				retryPos = append(retryPos, pos[j])
			}
		}
		recs, pos = retry, retryPos
	}
	return res, nil
}

// checkValue returns the class of an item after checking the value fits it.
func (s *Service) checkValue(className string, value []byte) (*class, error) {
	c, err := s.class(className)
	if err != nil {
		return nil, err
	}
	switch {
	case len(value) == 0:
		return nil, Invalid("value", "must not be empty")
	case len(value) > s.maxValue:
		return nil, Invalid("value", "is %d bytes, limit is %d", len(value), s.maxValue)
	case !c.Binary && !utf8.Valid(value):
		return nil, Invalid("value", "is not valid UTF-8 text (class %s is a text class)", c.Name)
	}
	if c.Format != nil {
		err := c.Format.Validate(string(value))
		// The domain-size rule guards FPE and hash transforms; a vaulted
		// value only has to parse.
		if c.Mode.Vaulted() && errors.Is(err, format.ErrDomainTooSmall) {
			err = nil
		}
		if err != nil {
			return nil, formatError("value", err)
		}
	}
	return c, nil
}

func (s *Service) class(name string) (*class, error) {
	if name == "" {
		return nil, Invalid("class", "is required")
	}
	sl, ok := s.classes[name]
	if !ok {
		return nil, Invalid("class", "unknown data class (not in the configuration)")
	}
	return sl.load(), nil
}

// DetokenizeItem is one token to resolve.
type DetokenizeItem struct {
	Class string
	Token string
	// Context and Tweak must be those given at tokenize time (fpe classes).
	Context string
	Tweak   []byte
}

// Revealed is a value at the level policy allowed, or the reason there is
// none.
type Revealed struct {
	Value []byte
	Level policy.Reveal
	Err   error
}

// Detokenize resolves items for identity and purpose. Policy is checked
// before the token is even parsed, so a caller without a grant learns
// nothing about the tokens it holds.
func (s *Service) Detokenize(ctx context.Context, identity, purpose string, items []DetokenizeItem) ([]Revealed, error) {
	if err := s.keysFresh(); err != nil {
		return nil, err
	}
	res := make([]Revealed, len(items))
	now := s.now()
	for i, it := range items {
		c, err := s.class(it.Class)
		if err != nil {
			res[i].Err = err
			continue
		}
		level := s.policy.Decide(identity, purpose, c.Name)
		if level == policy.Deny {
			res[i].Err = ErrDenied
			continue
		}
		v, err := s.resolve(ctx, c, it, now)
		if err != nil {
			if !isItemError(err) {
				return nil, err
			}
			res[i].Err = err
			continue
		}
		res[i] = Revealed{Value: c.reveal(v, level), Level: level}
	}
	return res, nil
}

// resolve returns the value behind one token of class c.
func (s *Service) resolve(ctx context.Context, c *class, it DetokenizeItem, now time.Time) ([]byte, error) {
	if it.Token == "" {
		return nil, Invalid("token", "is required")
	}
	switch {
	case c.Mode == tokenizer.FPE:
		return s.untransform(c, it)
	case !c.Mode.Vaulted():
		return nil, Invalid("class", "class %s uses mode %s, whose tokens are irreversible", c.Name, c.Mode)
	}
	return s.open(ctx, c, it.Token, now)
}

func (s *Service) open(ctx context.Context, c *class, token string, now time.Time) ([]byte, error) {
	id, err := c.codec.Decode(token)
	if err != nil {
		return nil, Invalid("token", "%v", err)
	}
	r, err := s.store.Get(ctx, c.Name, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("core: detokenize: %w", err)
	}
	if r.Expired(now) {
		return nil, ErrExpired
	}
	sealer, err := c.sealer(r.KeyVersion)
	if errors.Is(err, kms.ErrUnknownVersion) {
		// Another sidecar rotated and wrote with a version this one has
		// not seen yet: fetch the keyring once and try again.
		if c, err = s.reload(ctx, c.Name); err == nil {
			sealer, err = c.sealer(r.KeyVersion)
		}
	}
	if errors.Is(err, kms.ErrRetiredVersion) {
		return nil, ErrRetired
	}
	if err != nil {
		return nil, fmt.Errorf("core: detokenize: %w", err)
	}
	v, err := sealer.Open(id, r.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("core: detokenize class %s: %w", c.Name, err)
	}
	return v, nil
}

// LookupItem is one value whose deterministic token is wanted.
type LookupItem struct {
	Class string
	Value []byte
}

// Lookup returns the existing token of each value without creating one.
func (s *Service) Lookup(ctx context.Context, items []LookupItem) ([]TokenResult, error) {
	if err := s.keysFresh(); err != nil {
		return nil, err
	}
	res := make([]TokenResult, len(items))
	now := s.now()
	for i, it := range items {
		c, err := s.checkValue(it.Class, it.Value)
		if err != nil {
			res[i].Err = err
			continue
		}
		if c.Mode != tokenizer.Deterministic {
			res[i].Err = Invalid("class", "lookup needs a deterministic class; %s is %s", c.Name, c.Mode)
			continue
		}
		r, err := s.store.LookupIndex(ctx, c.Name, c.indexer.Index(it.Value))
		switch {
		case errors.Is(err, store.ErrNotFound):
			res[i].Err = ErrNotFound
		case err != nil:
			return nil, fmt.Errorf("core: lookup: %w", err)
		case r.Expired(now):
			res[i].Err = ErrExpired
		default:
			res[i].Token = c.codec.Encode(r.ID)
		}
	}
	return res, nil
}

// isItemError reports whether err belongs to one item rather than to the
// whole call (a storage or key failure fails the call: nothing can be
// trusted about the rest of the batch then).
func isItemError(err error) bool {
	var inv *InvalidError
	return errors.As(err, &inv) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrExpired) ||
		errors.Is(err, ErrDenied) || errors.Is(err, ErrRetired)
}
