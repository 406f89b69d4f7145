package core

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// DetokenizeItem is one token to resolve.
type DetokenizeItem struct {
	Class string
	Token string
	// Context and Tweak must be those given at tokenize time (fpe classes).
	Context string
	Tweak   []byte
	// SubjectID names the subject of an fpe token, whose consent is checked
	// for consent-requiring purposes; vaulted tokens carry their subject.
	SubjectID string
}

// Revealed is a value at the level policy allowed, or the reason there is
// none.
type Revealed struct {
	Value []byte
	Level policy.Reveal
	Err   error
}

// Detokenize resolves items for identity and purpose. In order: quota
// (the whole call), honeytokens, policy — checked before a token is even
// parsed, so a caller without a grant learns nothing about the tokens it
// holds — then, for consent-requiring purposes, the subject's consent.
// The call is audited before any value is returned; if the audit event
// cannot be written, nothing is returned. Nothing refers to items once it
// returns, so the caller may reuse the slice.
func (s *DataPlane) Detokenize(ctx context.Context, identity, purpose string, items []DetokenizeItem) ([]Revealed, error) {
	if err := s.keysFresh(); err != nil {
		return nil, err
	}
	pol := s.policy.Load()
	now := s.now()
	if lim, ok := s.quota.Take(identity, purpose, len(items), pol.Limits(identity, purpose), now); !ok {
		err := &QuotaError{Per: lim.Per, Max: lim.Max}
		if aerr := s.raise(ctx, audit.AlertQuota, identity, purpose, "", len(items), err.Error()); aerr != nil {
			return nil, aerr
		}
		s.observeQuota(purpose, items)
		return nil, err
	}
	res := make([]Revealed, len(items))
	subjects := make([]string, len(items))
	honey := 0
	var consents consentCache
	// finish applies consent and the granted level to one resolved item.
	finish := func(i int, c *class, reveal policy.Reveal, v []byte, subject string, err error) error {
		if subject != "" {
			// The subject's data was read, even if consent then withholds it.
			subjects[i] = subject
		}
		if err == nil && pol.RequiresConsent(purpose) {
			err = consents.check(ctx, s, subject, purpose, now)
		}
		if err != nil {
			if !isItemError(err) {
				return err
			}
			res[i].Err = err
			return nil
		}
		res[i] = Revealed{Value: c.reveal(v, reveal), Level: reveal}
		return nil
	}
	// Vaulted tokens are decoded here and their records read afterwards,
	// all in one store read.
	var (
		refs      []store.Ref
		pend      []pendingOpen
		vaultless []pendingOpen // fpe items of a large call, resolved after the checks
	)
	large := len(items) >= 2*minChunk
	ids := s.decodeAll(items)
	// The audit fingerprints depend on the tokens alone: for a large call
	// they are computed while policy is checked and the records are read.
	var fps []string
	fpsDone := make(chan struct{})
	if large {
		fps = make([]string, len(items))
		go func() {
			defer close(fpsDone)
			s.fingerprintReveals(items, ids, fps)
		}()
	} else {
		close(fpsDone)
	}
	// Even a call that fails returns only once nothing reads its items.
	defer func() { <-fpsDone }()
	// One decision per class: it depends on nothing else of the item
	// (consent is checked per subject below).
	var (
		lastClass *class
		lastD     policy.Decision
	)
	for i, it := range items {
		c, err := s.class(it.Class)
		if err != nil {
			res[i].Err = err
			continue
		}
		if s.isHoneytoken(pol, c, it.Token) {
			honey++
			res[i].Err = ErrDenied
			continue
		}
		if c.Mode == tokenizer.FPE && it.SubjectID != "" && len(it.SubjectID) <= maxSubjectID {
			// An fpe token's subject is the one its caller names, even
			// when policy refuses the read.
			subjects[i] = s.fp.Subject(it.SubjectID)
		}
		if c != lastClass {
			lastClass, lastD = c, pol.Decide(policy.Request{Identity: identity, Purpose: purpose, Class: c.Name, Consent: true})
		}
		d := lastD
		if d.Reason == policy.UnknownPurpose {
			res[i].Err = &UndeclaredPurposeError{Declared: pol.Purposes(), Near: nearest(purpose, pol.Purposes())}
			continue
		}
		if d.Reveal == policy.Deny {
			res[i].Err = fmt.Errorf("%w (%s)", ErrDenied, d.Reason)
			continue
		}
		if it.Token != "" && c.Mode.Vaulted() {
			var id []byte
			var err error
			if ids != nil && ids[i].c == c {
				id, err = ids[i].id, ids[i].err
			} else {
				id, err = c.codec.Decode(it.Token)
			}
			if err != nil {
				res[i].Err = Invalid("token", "%v", err)
				continue
			}
			if pend == nil { // sized once: the rest of the call may be all vaulted
				refs, pend = make([]store.Ref, 0, len(items)-i), make([]pendingOpen, 0, len(items)-i)
			}
			refs = append(refs, store.Ref{Class: c.Name, ID: id})
			pend = append(pend, pendingOpen{i: i, c: c, reveal: d.Reveal})
			continue
		}
		if large && c.Mode == tokenizer.FPE && !c.ShredWithSubject {
			// Resolved below across the cores: its own FF1 and nothing else.
			if vaultless == nil {
				vaultless = make([]pendingOpen, 0, len(items)-i)
			}
			vaultless = append(vaultless, pendingOpen{i: i, c: c, reveal: d.Reveal})
			continue
		}
		v, subject, err := s.resolve(ctx, c, it, nil)
		if err := finish(i, c, d.Reveal, v, subject, err); err != nil {
			return nil, err
		}
	}
	if len(vaultless) > 0 {
		inParallel(len(vaultless), func(lo, hi int) {
			var values byteArena
			for k := lo; k < hi; k++ {
				p := &vaultless[k]
				p.v, p.subject, p.err = s.resolve(ctx, p.c, items[p.i], &values)
			}
		})
		for _, p := range vaultless {
			if err := finish(p.i, p.c, p.reveal, p.v, p.subject, p.err); err != nil {
				return nil, err
			}
		}
	}
	if len(refs) > 0 {
		recs, err := s.store.GetMany(ctx, refs)
		if err != nil {
			return nil, fmt.Errorf("core: detokenize: %w", err)
		}
		// Opening is each record's own AES-GCM: spread over the cores,
		// then consent and reveal levels in item order.
		inParallel(len(pend), func(lo, hi int) {
			sealers := sealerCache{} // a subject's key is read and unwrapped once per chunk
			for k := lo; k < hi; k++ {
				p := &pend[k]
				p.v, p.subject, p.err = s.openRecord(ctx, p.c, refs[k].ID, recs[k], now, sealers)
			}
		})
		for _, p := range pend {
			if err := finish(p.i, p.c, p.reveal, p.v, p.subject, p.err); err != nil {
				return nil, err
			}
		}
	}
	if honey > 0 {
		if err := s.raise(ctx, audit.AlertHoneytoken, identity, purpose, "", honey, "honeytoken detokenize attempt"); err != nil {
			return nil, err
		}
	}
	<-fpsDone
	if err := s.auditReveals(ctx, identity, purpose, items, subjects, res, fps); err != nil {
		return nil, err
	}
	s.observeReveals(purpose, items, res)
	if err := s.noteDenials(ctx, identity, purpose, res, now); err != nil {
		return nil, err
	}
	return res, nil
}

// decoded is a vaulted token decoded ahead of its policy check, with the
// class that decoded it.
type decoded struct {
	c   *class
	id  []byte
	err error
}

// decodeAll decodes the vaulted tokens of a large call across the cores
// (each decode verifies an HMAC tag); nil for small calls and calls
// without vaulted classes. Detokenize uses a result only for an item that
// policy then allows, as if it had decoded it there.
func (s *DataPlane) decodeAll(items []DetokenizeItem) []decoded {
	if len(items) < 2*minChunk || !s.anyVaultedToken(items) {
		return nil
	}
	out := make([]decoded, len(items))
	inParallel(len(items), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			sl, ok := s.classes[items[i].Class]
			if !ok || items[i].Token == "" {
				continue
			}
			if c := sl.load(); c.Mode.Vaulted() {
				out[i].c = c
				out[i].id, out[i].err = c.codec.Decode(items[i].Token)
			}
		}
	})
	return out
}

// resolve returns the value behind one vaultless token of class c (in a
// slice from values, nil: allocated) and the keyed fingerprint of its
// subject ("" when it has none); Detokenize reads vaulted tokens' records
// in one batch and opens them with openRecord.
func (s *DataPlane) resolve(ctx context.Context, c *class, it DetokenizeItem, values *byteArena) ([]byte, string, error) {
	if it.Token == "" {
		return nil, "", Invalid("token", "is required")
	}
	if c.Mode != tokenizer.FPE {
		return nil, "", Invalid("class", "class %s uses mode %s, whose tokens are irreversible", c.Name, c.Mode)
	}
	v, err := s.untransform(ctx, c, it, values)
	subject := ""
	if it.SubjectID != "" {
		subject = s.fp.Subject(it.SubjectID)
	}
	return v, subject, err
}

// pendingOpen is a vaulted item of a detokenize call waiting for its
// record.
type pendingOpen struct {
	i      int
	c      *class
	reveal policy.Reveal
	// The opened record: value, subject fingerprint or the item's error.
	v       []byte
	subject string
	err     error
}

// openRecord opens the record r read for token id of class c; a zero r
// (no ID) means there is none.
func (s *DataPlane) openRecord(ctx context.Context, c *class, id []byte, r store.Record, now time.Time, sealers sealerCache) ([]byte, string, error) {
	if r.ID == nil {
		return nil, "", ErrNotFound
	}
	if r.Expired(now) {
		return nil, "", ErrExpired
	}
	sealer, err := s.recordSealerCached(ctx, c, r, false, sealers)
	if errors.Is(err, ErrSubjectErased) {
		return nil, "", ErrNotFound
	}
	if errors.Is(err, kms.ErrUnknownVersion) {
		// Another sidecar rotated and wrote with a version this one has
		// not seen yet: fetch the keyring once and try again.
		if c, err = s.reload(ctx, c.Name); err == nil {
			sealer, err = c.sealer(r.KeyVersion)
		}
	}
	if errors.Is(err, kms.ErrRetiredVersion) {
		return nil, "", ErrRetired
	}
	if err != nil {
		return nil, "", fmt.Errorf("core: detokenize: %w", err)
	}
	v, err := sealer.Open(id, r.Ciphertext)
	if err != nil {
		return nil, "", fmt.Errorf("core: detokenize class %s: %w", c.Name, err)
	}
	return v, string(r.Subject), nil
}

// consentCache keeps one call's consent answers per subject: a batch of a
// subject's tokens reads the subject's consents once.
type consentCache map[string]error

func (cc *consentCache) check(ctx context.Context, s *DataPlane, subject, purpose string, now time.Time) error {
	if err, ok := (*cc)[subject]; ok {
		return err
	}
	err := s.checkConsent(ctx, subject, purpose, now)
	if err == nil || isItemError(err) {
		if *cc == nil {
			*cc = consentCache{}
		}
		(*cc)[subject] = err
	}
	return err
}

func (s *DataPlane) checkConsent(ctx context.Context, subject, purpose string, now time.Time) error {
	if subject == "" {
		return ErrNoConsent
	}
	cs, err := s.store.Consents(ctx, []byte(subject))
	if err != nil {
		return fmt.Errorf("core: consent: %w", err)
	}
	for _, c := range cs {
		if c.Purpose == purpose && c.Live(now) {
			return nil
		}
	}
	return ErrNoConsent
}

// honeySet is the honeytokens of one policy: class → names.
type honeySet struct {
	pol   *policy.Policy
	names map[string]map[string]bool
}

// honeytokens holds the honeySet of the latest policy it was asked about.
type honeytokens struct{ cur atomic.Pointer[honeySet] }

// isHoneytoken reports whether token names one of pol's honeytokens of
// class c, under any spelling.
func (s *DataPlane) isHoneytoken(pol *policy.Policy, c *class, token string) bool {
	hs := s.honey.cur.Load()
	if hs == nil || hs.pol != pol {
		hs = &honeySet{pol: pol, names: map[string]map[string]bool{}}
		for _, h := range pol.Honeytokens() {
			if sl, ok := s.classes[h.Class]; ok {
				if hs.names[h.Class] == nil {
					hs.names[h.Class] = map[string]bool{}
				}
				hs.names[h.Class][tokenName(sl.load(), h.Token)] = true
			}
		}
		s.honey.cur.Store(hs)
	}
	names := hs.names[c.Name]
	return len(names) > 0 && names[tokenName(c, token)]
}

// fingerprintReveals computes, across the cores, the audit fingerprint of
// every token of a large detokenize call. A vaulted token that decoded is
// canonical; any other is fingerprinted under its canonical spelling
// (tokenFP), so each fingerprint is the one auditReveals would compute
// from the call's results.
func (s *DataPlane) fingerprintReveals(items []DetokenizeItem, ids []decoded, fps []string) {
	slots := s.fpSlots(len(items))
	inParallel(len(items), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if items[i].Token != "" {
				decoded := ids != nil && ids[i].c != nil && ids[i].err == nil
				fps[i] = s.tokenFPIn(slots, i, items[i].Class, items[i].Token, decoded)
			}
		}
	})
}

// auditReveals writes one event per class and subject for a detokenize
// call; subjects[i] is the subject of items[i] when it is known. fps holds
// the tokens' fingerprints when fingerprintReveals computed them (else
// nil).
func (s *DataPlane) auditReveals(ctx context.Context, caller, purpose string, items []DetokenizeItem, subjects []string, res []Revealed, fps []string) error {
	if fps == nil {
		fps = make([]string, len(res))
		for i := range items {
			if items[i].Token != "" {
				// A token that resolved passed the strict Decode.
				fps[i] = s.tokenFP(items[i].Class, items[i].Token, res[i].Err == nil)
			}
		}
	}
	ev := events{hint: len(res)}
	base := AuditEvent{Caller: caller, Purpose: s.auditPurpose(purpose), Op: audit.OpDetokenize}
	for i, r := range res {
		fp := fps[i]
		if i == 0 || items[i].Class != items[i-1].Class {
			base.Class = s.auditClass(items[i].Class)
		}
		ev.add(&base, subjects[i], r.Err == nil, fp)
	}
	return s.recordAll(ctx, ev)
}

// noteDenials adds the call's denied items to the caller's window and
// raises one alert per window once the burst limit is passed.
func (s *DataPlane) noteDenials(ctx context.Context, caller, purpose string, res []Revealed, now time.Time) error {
	n := 0
	for _, r := range res {
		if r.Err != nil && isDenial(r.Err) {
			n++
		}
	}
	return s.countDenials(ctx, caller, purpose, n, now)
}

// anyVaultedToken reports whether an item names a vaulted class.
func (s *DataPlane) anyVaultedToken(items []DetokenizeItem) bool {
	return s.anyVaultedClass(len(items), func(i int) string { return items[i].Class })
}
