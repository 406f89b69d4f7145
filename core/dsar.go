package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/store"
)

// UndeclaredPurposeError is a detokenize for a purpose the policy does
// not declare: usually a typo, so it names the declared ones (and the
// likely intended one) instead of reading like a missing grant. It is an
// ErrDenied. It never repeats the caller's purpose, which could be
// anything, even a value.
type UndeclaredPurposeError struct {
	Declared []string
	// Near is the declared purpose closest to the one given, if any is
	// close enough to be a typo.
	Near string
}

func (e *UndeclaredPurposeError) Error() string {
	msg := "the purpose is not declared in the policy"
	if e.Near != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", e.Near)
	}
	return msg + "; declared purposes: " + strings.Join(e.Declared, ", ")
}

// Is makes an UndeclaredPurposeError match ErrDenied.
func (e *UndeclaredPurposeError) Is(target error) bool { return target == ErrDenied }

// unknownClass names the class only when it is a near miss of a
// configured one (a typo): anything else a caller put in the class field
// could be a value or a token, and is not repeated.
func (s *registry) unknownClass(name string) error {
	names := s.classNames()
	known := strings.Join(names, ", ")
	if near := nearest(name, names); near != "" {
		return Invalid("class", "unknown data class %q, did you mean %q? (configured classes: %s)", name, near, known)
	}
	return Invalid("class", "unknown data class (configured classes: %s)", known)
}

// nearest returns the candidate within edit distance 2 of s (and not
// equal to it), the closest first, or "".
func nearest(s string, candidates []string) string {
	best, bestD := "", 3
	if len(s) > 64 {
		return ""
	}
	for _, c := range candidates {
		if d := editDistance(s, c); d > 0 && d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ExplainPolicy answers what the running policy decides for identity,
// purpose and class, and which grant or default decided. An unknown class
// is an InvalidError.
func (s *registry) ExplainPolicy(identity, purpose, className string) (policy.Explanation, error) {
	if _, err := s.class(className); err != nil {
		return policy.Explanation{}, err
	}
	return s.policy.Load().Explain(policy.Request{Identity: identity, Purpose: purpose, Class: className}), nil
}

// ErrDeletionReceiptUnsigned means the value was deleted and the deletion
// recorded, but its receipt could not be signed (e.g. the signer in Vault
// is unreachable); deleting the token again returns the receipt once
// signing works.
var ErrDeletionReceiptUnsigned = errors.New("the value was deleted, but the receipt could not be signed now; delete the token again to fetch the receipt")

// deletionMeta names the stored facts of a token's deletion, kept so the
// receipt can be signed again.
func deletionMeta(tokenFP string) string { return "deletion-receipt/" + tokenFP }

// DeleteToken erases the value behind one vaulted token, with or without
// a subject (the answer to an erasure request for a value not linked to a
// subject id). As for EraseSubject, the order is: intent event (nothing
// is deleted if it cannot be written), deletion of the record and its
// indexes (purged from disk), the receipt's facts saved, the outcome
// event, then signing. Deleting a token already deleted returns its
// receipt again, so an unsigned receipt (ErrDeletionReceiptUnsigned) can
// be fetched later.
func (s *Subjects) DeleteToken(ctx context.Context, caller, className, token string) (audit.Receipt, error) {
	c, err := s.class(className)
	if err != nil {
		return audit.Receipt{}, err
	}
	if !c.Mode.Vaulted() {
		return audit.Receipt{}, Invalid("class", "delete is for vaulted classes; %s tokens hold no stored value", c.Mode)
	}
	id, err := c.codec.Decode(token)
	if err != nil {
		return audit.Receipt{}, Invalid("token", "%v", err)
	}
	if s.receipts == nil {
		return audit.Receipt{}, errors.New("core: no receipt signer configured")
	}
	fp := s.tokenFP(c.Name, token, true) // decoded: canonical
	r, err := s.store.Get(ctx, c.Name, id)
	if errors.Is(err, store.ErrNotFound) {
		r, err := s.deletedBefore(ctx, fp)
		if v1, ok := s.fp.(legacyTokenFingerprinter); ok && errors.Is(err, ErrNotFound) {
			// Deleted before token fingerprints changed spelling.
			r, err = s.deletedBefore(ctx, v1.TokenV1(c.Name, token))
		}
		return r, err
	}
	if err != nil {
		return audit.Receipt{}, fmt.Errorf("core: delete: %w", err)
	}
	ev := AuditEvent{Caller: caller, Purpose: "dsar", Op: audit.OpDeleteToken, Class: c.Name, Tokens: []string{fp}, Subject: string(r.Subject)}
	if err := s.intent(ctx, ev); err != nil {
		return audit.Receipt{}, err
	}
	ev.Count = 1
	if err := s.store.Delete(ctx, r); err != nil {
		ev.Decision, ev.Reason = "error", "store error"
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrChanged) {
			ev.Reason = "the token changed concurrently"
		}
		if aerr := s.record(ctx, ev); aerr != nil {
			return audit.Receipt{}, aerr
		}
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrChanged) {
			return audit.Receipt{}, &PreconditionError{Reason: "the token changed concurrently; retry"}
		}
		return audit.Receipt{}, fmt.Errorf("core: delete: %w", err)
	}
	rec := audit.Receipt{Kind: audit.ReceiptToken, Class: c.Name, TokenFP: fp, Subject: string(r.Subject), ErasedAt: s.now().UTC(), Records: 1}
	if d, ok := s.store.(store.DeletionStatement); ok {
		// What copies remain and why they cannot be read, signed (v2).
		rec.Remains = d.DeletionRemains(r.Subject != nil)
	}
	if err := s.saveDeletion(ctx, rec); err != nil {
		return audit.Receipt{}, err
	}
	ev.Decision = "allow"
	if err := s.record(ctx, ev); err != nil {
		return audit.Receipt{}, err
	}
	return s.signDeletion(ctx, rec)
}

// legacyTokenFingerprinter gives a token's fingerprint as spelled before
// audit fingerprints version 2 (audit.Fingerprinter.TokenV1), under which
// older deletion receipts are stored.
type legacyTokenFingerprinter interface {
	TokenV1(class, token string) string
}

// deletedBefore returns the signed receipt of an earlier deletion of the
// token with fingerprint fp, or ErrNotFound if it was never deleted here.
func (s *Subjects) deletedBefore(ctx context.Context, fp string) (audit.Receipt, error) {
	b, err := s.store.GetMeta(ctx, deletionMeta(fp))
	if errors.Is(err, store.ErrNotFound) {
		return audit.Receipt{}, ErrNotFound
	}
	if err != nil {
		return audit.Receipt{}, fmt.Errorf("core: deletion receipt: %w", err)
	}
	var r audit.Receipt
	if err := json.Unmarshal(b, &r); err != nil {
		return audit.Receipt{}, fmt.Errorf("core: deletion receipt: %w", err)
	}
	return s.signDeletion(ctx, r)
}

func (s *Subjects) saveDeletion(ctx context.Context, r audit.Receipt) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := s.store.PutMeta(context.WithoutCancel(ctx), deletionMeta(r.TokenFP), b); err != nil {
		return fmt.Errorf("core: save deletion receipt: %w", err)
	}
	return nil
}

func (s *Subjects) signDeletion(ctx context.Context, r audit.Receipt) (audit.Receipt, error) {
	signed, err := audit.SignReceipt(ctx, s.receipts, r)
	if err != nil {
		s.log.ErrorContext(ctx, "deletion receipt not signed; the deletion stands", "error", err)
		return audit.Receipt{}, fmt.Errorf("%w: %v", ErrDeletionReceiptUnsigned, err)
	}
	return signed, nil
}

// consentPurpose checks that a consent names a declared purpose that
// requires consent: a consent to anything else would never be consulted,
// and a typo would silently record nothing useful.
func consentPurpose(pol *policy.Policy, purpose string) error {
	var need []string
	for _, p := range pol.Purposes() {
		if pol.RequiresConsent(p) {
			need = append(need, p)
		}
	}
	list := strings.Join(need, ", ")
	if len(need) == 0 {
		list = "none: no declared purpose has requires_consent"
	}
	switch {
	case !pol.Declared(purpose) || pol.Purposes() == nil:
		return Invalid("purpose", "is not a declared purpose (purposes that require consent: %s)", list)
	case !pol.RequiresConsent(purpose):
		return Invalid("purpose", "does not require consent: grants alone allow it (purposes that require consent: %s)", list)
	}
	return nil
}
