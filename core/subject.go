package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// ErrSubjectErased means the value's subject was erased: its key is gone.
var ErrSubjectErased = errors.New("the data subject was erased; the token no longer resolves")

// sealerCache keeps one call's subject sealers, so a batch of many values
// of one subject reads and unwraps the subject key once.
type sealerCache map[string]*tokenizer.Sealer

// SubjectItem is one token of a subject, with its value at the level the
// caller's dsar grant allows.
type SubjectItem struct {
	Class     string
	Token     string
	Value     []byte
	Level     policy.Reveal
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ExportSubject returns every stored token of subjectID with its value at
// the level the caller's grant for purpose "dsar" allows (right of access
// and portability). Vaultless (fpe) tokens are not stored and cannot be
// listed.
func (s *Subjects) ExportSubject(ctx context.Context, caller, subjectID string) ([]SubjectItem, error) {
	if err := checkSubject(subjectID); err != nil {
		return nil, err
	}
	fp := s.fp.Subject(subjectID)
	recs, err := s.store.SubjectRecords(ctx, []byte(fp))
	if err != nil {
		return nil, fmt.Errorf("core: export: %w", err)
	}
	pol := s.policy.Load()
	now := s.now()
	var out []SubjectItem
	for _, r := range recs {
		sl, ok := s.classes[r.Class]
		if !ok || r.Expired(now) {
			continue
		}
		c := sl.load()
		it := SubjectItem{Class: c.Name, Token: c.codec.Encode(r.ID), CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
		d := pol.Decide(policy.Request{Identity: caller, Purpose: "dsar", Class: c.Name, Consent: true})
		if d.Reveal != policy.Deny {
			sealer, err := s.recordSealer(ctx, c, r, false)
			if err != nil {
				return nil, err
			}
			v, err := sealer.Open(r.ID, r.Ciphertext)
			if err != nil {
				return nil, fmt.Errorf("core: export class %s: %w", c.Name, err)
			}
			it.Value, it.Level = c.reveal(v, d.Reveal), d.Reveal
		}
		out = append(out, it)
	}
	if err := s.record(ctx, AuditEvent{Caller: caller, Purpose: "dsar", Op: audit.OpExport, Count: len(out), Decision: audit.DecisionAllow, Subject: fp}); err != nil {
		return nil, err
	}
	return out, nil
}

// RectifyToken replaces the value behind a vaulted token, keeping the
// token. The old ciphertext is overwritten in the store (older versions
// leave the disk at the store's next compaction; the API can never return
// the old value again).
func (s *Subjects) RectifyToken(ctx context.Context, caller, className, token string, value []byte) error {
	c, err := s.checkValue(className, value)
	if err != nil {
		return err
	}
	if !c.Mode.Vaulted() {
		return Invalid("class", "rectify is for vaulted classes; %s tokens hold no stored value", c.Mode)
	}
	id, err := c.codec.Decode(token)
	if err != nil {
		return Invalid("token", "%v", err)
	}
	old, err := s.store.Get(ctx, c.Name, id)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("core: rectify: %w", err)
	}
	next := old
	if old.KeyVersion != 0 {
		next.KeyVersion = c.current
	}
	sealer, err := s.recordSealer(ctx, c, next, false)
	if errors.Is(err, ErrSubjectErased) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	next.Ciphertext = sealer.Seal(id, value)
	if c.Mode == tokenizer.Deterministic {
		next.Index = c.index(old.Subject, value)
	}
	tokenFP := []string{s.tokenFP(c.Name, token, false)}
	if err := s.intent(ctx, AuditEvent{Caller: caller, Purpose: "dsar", Op: audit.OpRectify, Class: c.Name, Tokens: tokenFP, Subject: string(old.Subject)}); err != nil {
		return err
	}
	err = s.store.Rectify(ctx, old, next)
	switch {
	case errors.Is(err, store.ErrIndexTaken):
		return &PreconditionError{Reason: "the new value already has another token in this class"}
	case errors.Is(err, store.ErrChanged):
		return &PreconditionError{Reason: "the token changed concurrently; retry"}
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("core: rectify: %w", err)
	}
	return s.record(ctx, AuditEvent{Caller: caller, Purpose: "dsar", Op: audit.OpRectify, Class: c.Name, Count: 1,
		Decision: audit.DecisionAllow, Tokens: tokenFP, Subject: string(old.Subject)})
}

// ReceiptSigner signs erasure receipts.
type ReceiptSigner interface {
	Sign(ctx context.Context, msg []byte) ([]byte, string, error)
}

// EraseSubject crypto-shreds subjectID: its keys, records, indexes and
// consents are deleted in one transaction (so every token of the subject,
// vaulted or shred_with_subject fpe, stops resolving at once), old
// versions are purged from disk, and a
// signed receipt is returned. The order is: intent event (nothing is
// erased if it cannot be written), erasure, the receipt's facts saved in
// the store, the outcome event, then signing. If signing fails the
// erasure stands and ErrReceiptUnsigned is returned; erasing the subject
// again (which finds nothing left to erase) signs and returns the stored
// receipt.
func (s *Subjects) EraseSubject(ctx context.Context, caller, subjectID string) (audit.Receipt, error) {
	if err := checkSubject(subjectID); err != nil {
		return audit.Receipt{}, err
	}
	if s.receipts == nil {
		return audit.Receipt{}, errors.New("core: no receipt signer configured")
	}
	fp := s.fp.Subject(subjectID)
	if err := s.intent(ctx, AuditEvent{Caller: caller, Purpose: "dsar", Op: audit.OpErase, Subject: fp}); err != nil {
		return audit.Receipt{}, err
	}
	n, err := s.store.EraseSubject(ctx, []byte(fp))
	if err != nil {
		err = fmt.Errorf("core: erase: %w", err)
		s.record(ctx, AuditEvent{Caller: caller, Purpose: "dsar", Op: audit.OpErase, Count: 1, Decision: audit.DecisionError, Subject: fp, Reason: "store error"})
		return audit.Receipt{}, err
	}
	r := audit.Receipt{Subject: fp, ErasedAt: s.now().UTC(), Records: n.Records, Keys: n.Keys, Consents: n.Consents, Remains: n.Remains}
	if !n.Any() {
		// Nothing left: an earlier erasure did it. Return its receipt.
		prev, ok, err := s.storedReceipt(ctx, fp)
		if err != nil {
			return audit.Receipt{}, err
		}
		if ok {
			r = prev
		}
	}
	if err := s.saveReceipt(ctx, r); err != nil {
		return audit.Receipt{}, err
	}
	if err := s.record(ctx, AuditEvent{Caller: caller, Purpose: "dsar", Op: audit.OpErase, Count: n.Records, Decision: audit.DecisionAllow, Subject: fp,
		Reason: fmt.Sprintf("records=%d subject_keys=%d consents=%d", n.Records, n.Keys, n.Consents)}); err != nil {
		return audit.Receipt{}, err
	}
	signed, err := audit.SignReceipt(ctx, s.receipts, r)
	if err != nil {
		s.log.ErrorContext(ctx, "erasure receipt not signed; the erasure stands", "error", err)
		return audit.Receipt{}, fmt.Errorf("%w: %v", ErrReceiptUnsigned, err)
	}
	return signed, nil
}

// purgeBatch bounds one purge transaction.
const purgeBatch = 1000

// PurgeExpired deletes every expired record now and returns counts by
// class. Expired records are already unreadable; this reclaims them.
func (s *Subjects) PurgeExpired(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	now := s.now()
	for _, name := range s.classNames() {
		if !s.classes[name].spec.Mode.Vaulted() {
			continue
		}
		for {
			n, err := s.store.DeleteExpired(ctx, name, now, purgeBatch)
			if err != nil {
				return out, fmt.Errorf("core: purge %s: %w", name, err)
			}
			out[name] += n
			if n < purgeBatch {
				break
			}
		}
	}
	return out, nil
}

// PurgeEvery runs PurgeExpired every interval until ctx ends.
func (s *Subjects) PurgeEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.purgeAudited(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("retention purge failed", "error", err)
			continue
		}
		total := 0
		for _, v := range n {
			total += v
		}
		if total > 0 {
			s.log.Info("retention purge", "deleted", total)
		}
	}
}

// retentionCaller is the caller recorded for the background purge.
const retentionCaller = "privacyvault/retention"

// purgeAudited is the background purge: intent event, purge, outcome
// event, like an admin's purge call.
func (s *Subjects) purgeAudited(ctx context.Context) (map[string]int, error) {
	if err := s.RecordAdminIntent(ctx, retentionCaller, "purge", ""); err != nil {
		return nil, err
	}
	n, err := s.PurgeExpired(ctx)
	if aerr := s.RecordAdmin(ctx, retentionCaller, "purge", "", err); aerr != nil && err == nil {
		err = aerr
	}
	return n, err
}
