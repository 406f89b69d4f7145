package core

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/store"
)

// UndeclaredPurposeError is a detokenize for a purpose the policy does
// not declare: usually a typo, so it names the declared ones instead of
// reading like a missing grant. It is an ErrDenied.
type UndeclaredPurposeError struct {
	Declared []string
}

func (e *UndeclaredPurposeError) Error() string {
	return "the purpose is not declared in the policy; declared purposes: " + strings.Join(e.Declared, ", ")
}

// Is makes an UndeclaredPurposeError match ErrDenied.
func (e *UndeclaredPurposeError) Is(target error) bool { return target == ErrDenied }

// className is what a class name looks like (as config validates it):
// only input of this shape is echoed in an error, since a caller may put
// a value where the class belongs.
var className = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

func (s *Service) unknownClass(name string) error {
	known := strings.Join(s.classNames(), ", ")
	if className.MatchString(name) {
		return Invalid("class", "unknown data class %q (configured classes: %s)", name, known)
	}
	return Invalid("class", "unknown data class, not a class name (configured classes: %s)", known)
}

// ExplainPolicy answers what the running policy decides for identity,
// purpose and class, and which grant or default decided. An unknown class
// is an InvalidError.
func (s *Service) ExplainPolicy(identity, purpose, className string) (policy.Explanation, error) {
	if _, err := s.class(className); err != nil {
		return policy.Explanation{}, err
	}
	return s.policy.Load().Explain(policy.Request{Identity: identity, Purpose: purpose, Class: className}), nil
}

// DeleteToken erases the value behind one vaulted token, with or without
// a subject (the answer to an erasure request for a value not linked to a
// subject id). The audit event is written first: if it cannot be, nothing
// is deleted. The record and its indexes are deleted and purged from disk,
// and a signed receipt (kind token) is returned.
func (s *Service) DeleteToken(ctx context.Context, caller, className, token string) (audit.Receipt, error) {
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
	r, err := s.store.Get(ctx, c.Name, id)
	if errors.Is(err, store.ErrNotFound) {
		return audit.Receipt{}, ErrNotFound
	}
	if err != nil {
		return audit.Receipt{}, fmt.Errorf("core: delete: %w", err)
	}
	fp := s.fp.Token(c.Name, token)
	ev := AuditEvent{Caller: caller, Purpose: "dsar", Op: "token.delete", Class: c.Name, Count: 1, Decision: "allow",
		Tokens: []string{fp}, Subject: string(r.Subject)}
	if err := s.record(ctx, ev); err != nil {
		return audit.Receipt{}, err
	}
	if err := s.store.Delete(ctx, r); err != nil {
		// The event above said allow; say it did not happen.
		ev.Decision, ev.Reason = "error", "delete failed"
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrChanged) {
			ev.Reason = "the token changed concurrently"
		}
		if aerr := s.record(ctx, ev); aerr != nil {
			return audit.Receipt{}, aerr
		}
		if errors.Is(err, store.ErrNotFound) {
			return audit.Receipt{}, ErrNotFound
		}
		if errors.Is(err, store.ErrChanged) {
			return audit.Receipt{}, &PreconditionError{Reason: "the token changed concurrently; retry"}
		}
		return audit.Receipt{}, fmt.Errorf("core: delete: %w", err)
	}
	rec := audit.Receipt{Kind: audit.ReceiptToken, Class: c.Name, TokenFP: fp, Subject: string(r.Subject), ErasedAt: s.now().UTC(), Records: 1}
	return audit.SignReceipt(ctx, s.receipts, rec)
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
