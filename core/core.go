// Package core is the sidecar's domain: the data plane (DataPlane: it
// checks items, applies a class's token mode with its keys, reads and
// writes the store and asks policy what a caller may see), key
// administration (KeyAdmin) and the data-subject lifecycle (Subjects),
// over one class registry and audit trail (see parts.go). It knows nothing
// of gRPC; the server maps its results.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/quota"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/tokenizer"
	"github.com/privacyvault/privacyvault/tokenizer/format"
)

// KeyProvider supplies class keyrings and changes them.
type KeyProvider interface {
	Keyring(ctx context.Context, class string) (*kms.Keyring, error)
	Rotate(ctx context.Context, class string) (*kms.Keyring, error)
	SetMinDecryptionVersion(ctx context.Context, class string, v uint32) (*kms.Keyring, error)
	Rewrap(ctx context.Context) (int, error)
}

// Fingerprinter turns tokens and subject ids into keyed fingerprints, so
// audit events and stored records can name them without holding them.
type Fingerprinter interface {
	Token(class, token string) string
	Subject(id string) string
}

// Config configures New.
type Config struct {
	Classes      []ClassSpec
	Store        Store
	Keys         KeyProvider
	Policy       *policy.Policy
	Auditor      Auditor
	Fingerprints Fingerprinter
	Alerts       AlertSink
	// Observer sees each call's outcomes and key refreshes (metrics,
	// traces); nil observes nothing.
	Observer Observer
	// Receipts signs erasure receipts (the audit checkpoint signer).
	Receipts      ReceiptSigner
	MaxValueBytes int
	// GracePeriod is how long the data plane keeps serving from cached keys
	// after the key provider was last reached; 0 means forever (the
	// development provider is local and cannot be unreachable).
	GracePeriod time.Duration
	// Logger receives key refresh and job logs; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Leases run each re-encryption job on one sidecar of a fleet sharing
	// the store; nil means the store is this sidecar's alone.
	Leases Leases
	// JointCommit makes a tokenize call's records and its audit events
	// commit in one transaction (audit.Joint): set it only when the store
	// and the auditor share a database and both honour the joint.
	JointCommit bool
}

// maxSubjectID bounds subject identifiers, which are opaque customer ids.
const maxSubjectID = 256

// maxCollisionRounds bounds retries after random-ID collisions; with
// 128-bit IDs even one retry means the random source is broken.
const maxCollisionRounds = 4

// New loads every class's keyring (so the data path makes no key-provider
// call) and returns the service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	reg := &registry{
		classes:     map[string]*slot{},
		keys:        cfg.Keys,
		subjectKeys: cfg.Store,
		maxValue:    cfg.MaxValueBytes,
		grace:       cfg.GracePeriod,
		log:         cfg.Logger,
		now:         cfg.Now,
		obs:         cfg.Observer,
	}
	b := &base{registry: reg, trail: &trail{reg: reg, audit: cfg.Auditor, fp: cfg.Fingerprints, alerts: cfg.Alerts}}
	if b.now == nil {
		b.now = time.Now
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.audit == nil || b.fp == nil || cfg.Policy == nil {
		return nil, errors.New("core: Config needs Policy, Auditor and Fingerprints")
	}
	if b.alerts == nil {
		b.alerts = nopAlerts{}
	}
	b.policy.Store(cfg.Policy)
	for _, spec := range cfg.Classes {
		b.classes[spec.Name] = &slot{spec: spec}
	}
	s := &Service{
		base:      b,
		DataPlane: &DataPlane{base: b, store: cfg.Store, quota: quota.New(), joint: cfg.JointCommit},
		KeyAdmin:  &KeyAdmin{base: b, store: cfg.Store},
		Subjects:  &Subjects{base: b, store: cfg.Store, receipts: cfg.Receipts},
	}
	s.KeyAdmin.jobs.running = map[string]*job{}
	s.KeyAdmin.jobs.base, s.KeyAdmin.jobs.stop = context.WithCancel(context.Background())
	s.KeyAdmin.jobs.leases = cfg.Leases
	if s.KeyAdmin.jobs.leases == nil {
		s.KeyAdmin.jobs.leases = localLeases{}
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
	// SubjectID names the data subject the value belongs to (optional);
	// only its keyed fingerprint is stored.
	SubjectID string
	// TTL shortens the class retention for this token (0 keeps it).
	TTL time.Duration
}

// retention returns the TTL of a token: the class retention, or the
// item's shorter one. A TTL longer than the class's is refused rather than
// silently cut, so callers learn their data will not live that long.
func retention(class, item time.Duration) (time.Duration, error) {
	switch {
	case item < 0:
		return 0, Invalid("ttl", "must not be negative")
	case item == 0:
		return class, nil
	case class > 0 && item > class:
		return 0, Invalid("ttl", "is longer than the class retention %s", class)
	}
	return item, nil
}

// TokenResult is a token or the reason there is none.
type TokenResult struct {
	Token string
	Err   error
}

// Tokenize tokenizes items; results align with items. The error is for
// failures of the whole batch (storage), never for one bad item. Nothing
// refers to items once it returns, so the caller may reuse the slice.
func (s *DataPlane) Tokenize(ctx context.Context, caller string, items []TokenizeItem) ([]TokenResult, error) {
	return s.TokenizeThen(ctx, caller, items, nil)
}

// TokenizeThen is Tokenize that also calls then (unless nil) once with
// the final results: for a call of OverlapItems or more while its audit
// event and records are being made durable, on another goroutine (with
// the counting of the call's metrics, reported once the syncs
// succeeded), so that a handler encodes its response during the sync
// instead of after it; for a smaller call once they are durable. then may
// run even when the call fails afterwards (its event cannot be written),
// so what it makes must not leave the process before TokenizeThen
// returns nil. It must not modify res or keep it.
func (s *DataPlane) TokenizeThen(ctx context.Context, caller string, items []TokenizeItem, then func(res []TokenResult)) ([]TokenResult, error) {
	subjects := s.subjects(items)
	if sa := s.stager(items); sa != nil {
		res, err := s.tokenizeWithEvent(ctx, sa, caller, items, subjects)
		if err == nil && then != nil {
			then(res)
		}
		return res, err
	}
	if s.joint {
		var j *audit.Joint
		ctx, j = audit.WithJoint(ctx)
		defer j.Abort() // records whose events were not committed go
	}
	res, fps, durable, err := s.tokenize(ctx, items, subjects)
	if err != nil {
		return nil, err
	}
	// The store syncs the new records while the audit log syncs the event:
	// one sync's time, not two in a row. The tokens go out only once both
	// are durable.
	classes := itemClasses(items)
	var tally *outcomes
	err = alongside(len(items) >= OverlapItems, func() {
		if then != nil {
			then(res)
		}
		tally = s.tallyTokens(string(audit.OpTokenize), classes, res)
	}, func() error {
		auditErr := s.auditTokens(ctx, caller, "", audit.OpTokenize, classes, subjects, res, fps)
		if err := durable(); err != nil {
			return fmt.Errorf("core: tokenize: %w", err)
		}
		return auditErr
	})
	if err != nil {
		return nil, err
	}
	tally.report(s.obs)
	return res, nil
}

// tokenize does the work of Tokenize; subjects[i] is the fingerprint of
// items[i].SubjectID ("" for none). fps[i] is the audit fingerprint of
// res[i].Token when it was computed with the token ("" otherwise). The new
// records are not yet durable when it returns: durable waits until they
// are, and no token may be returned before it reports nil.
func (s *DataPlane) tokenize(ctx context.Context, items []TokenizeItem, subjects []string) (res []TokenResult, fps []string, durable func() error, err error) {
	var waits []func() error
	durable = func() error {
		for _, w := range waits {
			if err := w(); err != nil {
				return err
			}
		}
		return nil
	}
	b := tokenizeBatch{items: items, res: make([]TokenResult, len(items)), fps: make([]string, len(items)), fpSet: s.fpSlots(len(items))}
	if err := s.tokenizeStaged(ctx, &b, subjects, &waits); err != nil {
		return nil, nil, nil, err
	}
	return b.res, b.fps, durable, nil
}

func (s *DataPlane) tokenizeStaged(ctx context.Context, b *tokenizeBatch, subjects []string, waits *[]func() error) error {
	recs, pos, sealers, err := s.stageRecords(ctx, b, subjects)
	if err != nil {
		return err
	}
	return s.insertRecords(ctx, b, recs, pos, sealers, func(recs []store.Record) ([]store.Outcome, error) {
		out, wait, err := s.store.InsertStaged(ctx, recs)
		if err != nil {
			return nil, err
		}
		*waits = append(*waits, wait)
		return out, nil
	})
}

// stageRecords does every item's work up to the store: it sets the
// results of items that need no record (vaultless, invalid) and returns
// the sealed records of the others, pos[j] being the item of recs[j].
func (s *DataPlane) stageRecords(ctx context.Context, b *tokenizeBatch, subjects []string) (recs []store.Record, pos []int, sealers sealerCache, err error) {
	if err := s.keysFresh(); err != nil {
		return nil, nil, nil, err
	}
	now := s.now().UTC()
	// Items that depend on nothing but themselves first, across the cores
	// for a large call; the rest (subject keys, unknown classes) in item
	// order here.
	if err := s.prepareAll(ctx, b, now); err != nil {
		return nil, nil, nil, err
	}
	sealers = sealerCache{}
	for i, it := range b.items {
		switch b.state(i) {
		case itemDone:
			continue
		case itemStaged:
			if recs == nil {
				recs, pos = make([]store.Record, 0, len(b.items)-i), make([]int, 0, len(b.items)-i)
			}
			recs, pos = append(recs, b.recs[i]), append(pos, i)
			continue
		}
		c, text, err := s.checkText(it.Class, it.Value, nil)
		if err != nil {
			b.res[i].Err = err
			continue
		}
		if !c.Mode.Vaulted() {
			tok, err := s.transform(ctx, c, it, text)
			if err != nil && !isItemError(err) {
				return nil, nil, nil, err
			}
			b.res[i] = TokenResult{Token: tok, Err: err}
			continue
		}
		if len(it.SubjectID) > maxSubjectID {
			b.res[i].Err = Invalid("subject_id", "is %d bytes, limit is %d", len(it.SubjectID), maxSubjectID)
			continue
		}
		r := store.Record{Class: c.Name, ID: tokenizer.NewID(), KeyVersion: c.current, CreatedAt: now}
		if it.SubjectID != "" {
			// Sealed under the subject's key: erasing the key shreds it.
			r.Subject, r.KeyVersion = []byte(subjects[i]), 0
		}
		if c.Mode == tokenizer.Deterministic {
			r.Index = c.index(r.Subject, it.Value)
			detID(r)
		}
		ttl, err := retention(c.Retention, it.TTL)
		if err != nil {
			b.res[i].Err = err
			continue
		}
		if ttl > 0 {
			r.ExpiresAt = now.Add(ttl)
		}
		sealer, err := s.recordSealerCached(ctx, c, r, true, sealers)
		if err != nil {
			return nil, nil, nil, err
		}
		r.Ciphertext = sealer.Seal(r.ID, it.Value)
		recs = append(recs, r)
		pos = append(pos, i)
	}
	return recs, pos, sealers, nil
}

// insertRecords inserts recs, the records of the items of b at pos,
// through insert, sets the tokens of the items the store decided, and
// inserts again under a new identifier the records whose identifier was
// taken.
func (s *DataPlane) insertRecords(ctx context.Context, b *tokenizeBatch, recs []store.Record, pos []int, sealers sealerCache, insert func([]store.Record) ([]store.Outcome, error)) error {
	for round := 0; len(recs) > 0; round++ {
		if round == maxCollisionRounds {
			return errors.New("core: token identifiers keep colliding; the random source is broken")
		}
		out, err := insert(recs)
		if err != nil {
			return fmt.Errorf("core: tokenize: %w", err)
		}
		s.issueTokens(b, recs, pos, out)
		var retry []store.Record
		var retryPos []int
		for j, o := range out {
			if o.Status == store.Inserted || o.Status == store.Existing {
				continue
			}
			c := s.classes[recs[j].Class].load()
			r := recs[j]
			r.ID = tokenizer.NewID()
			sealer, err := s.recordSealerCached(ctx, c, r, true, sealers)
			if err != nil {
				return err
			}
			value, err := sealer.Open(recs[j].ID, recs[j].Ciphertext)
			if err != nil {
				return fmt.Errorf("core: reseal after collision: %w", err)
			}
			r.Ciphertext = sealer.Seal(r.ID, value)
			retry = append(retry, r)
			retryPos = append(retryPos, pos[j])
		}
		recs, pos = retry, retryPos
	}
	return nil
}

// checkValue returns the class of an item after checking the value fits it.
func (s *registry) checkValue(className string, value []byte) (*class, error) {
	c, _, err := s.checkText(className, value, nil)
	return c, err
}

// checkText is checkValue that also returns the value as a string when
// the class format needed it ("" otherwise), so that the transform does
// not copy it again; the string comes from texts (nil: allocated).
func (s *registry) checkText(className string, value []byte, texts *textArena) (*class, string, error) {
	c, err := s.class(className)
	if err != nil {
		return nil, "", err
	}
	text, err := s.checkClassText(c, value, texts)
	if err != nil {
		return nil, "", err
	}
	return c, text, nil
}

// checkClassText is checkText for a value of class c.
func (s *registry) checkClassText(c *class, value []byte, texts *textArena) (string, error) {
	switch {
	case len(value) == 0:
		return "", Invalid("value", "must not be empty")
	case len(value) > s.maxValue:
		return "", Invalid("value", "is %d bytes, limit is %d", len(value), s.maxValue)
	case !c.Binary && !utf8.Valid(value):
		return "", Invalid("value", "is not valid UTF-8 text (class %s is a text class)", c.Name)
	}
	if c.Format == nil {
		return "", nil
	}
	text := texts.text(value)
	err := c.Format.Validate(text)
	// The domain-size rule guards FPE and hash transforms; a vaulted value
	// only has to parse.
	if c.Mode.Vaulted() && errors.Is(err, format.ErrDomainTooSmall) {
		err = nil
	}
	if err != nil {
		return "", formatError("value", err)
	}
	return text, nil
}

// LookupItem is one value whose deterministic token is wanted.
type LookupItem struct {
	Class string
	Value []byte
	// SubjectID must be the one given at tokenize time, if any.
	SubjectID string
}

// Lookup returns the existing token of each value without creating one.
func (s *DataPlane) Lookup(ctx context.Context, caller string, items []LookupItem) ([]TokenResult, error) {
	res, err := s.lookup(ctx, items)
	if err != nil {
		return nil, err
	}
	classes := make([]string, len(items))
	subjects := make([]string, len(items))
	for i, it := range items {
		classes[i] = it.Class
		// A lookup tells whether the subject has the value: an access to
		// the subject's data even when it finds nothing.
		if it.SubjectID != "" && len(it.SubjectID) <= maxSubjectID {
			subjects[i] = s.fp.Subject(it.SubjectID)
		}
	}
	if err := s.auditTokens(ctx, caller, "", audit.OpLookup, classes, subjects, res, nil); err != nil {
		return nil, err
	}
	s.observeTokens(string(audit.OpLookup), classes, res)
	return res, nil
}

func (s *DataPlane) lookup(ctx context.Context, items []LookupItem) ([]TokenResult, error) {
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
		var subject []byte
		if it.SubjectID != "" {
			subject = []byte(s.fp.Subject(it.SubjectID))
		}
		r, err := s.store.LookupIndex(ctx, c.Name, c.index(subject, it.Value))
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
