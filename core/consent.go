package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/store"
)

// ErrNoConsent means the purpose requires consent and the value's subject
// has no live consent for it (none, expired, revoked, or no subject).
var ErrNoConsent = errors.New("the purpose requires the data subject's consent, and there is no live consent")

// ErrNoConsentRecord means there is no consent of the subject for the
// purpose to revoke.
var ErrNoConsentRecord = errors.New("no consent record for this subject and purpose")

// lawfulBases are the GDPR Art. 6(1) bases a consent record may name.
var lawfulBases = []string{"consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"}

// LawfulBases returns the GDPR Art. 6(1) bases a consent record may name
// (a copy: the list is not the caller's to change).
func LawfulBases() []string { return slices.Clone(lawfulBases) }

// Consent is a subject's consent to one purpose, as callers see it.
type Consent struct {
	SubjectID   string
	Purpose     string
	LawfulBasis string
	GrantedAt   time.Time
	ExpiresAt   time.Time
	RevokedAt   time.Time
	Live        bool
}

// checkSubject checks a subject id given to a subject request.
func checkSubject(subjectID string) error {
	switch {
	case subjectID == "":
		return Invalid("subject_id", "is required")
	case len(subjectID) > maxSubjectID:
		return Invalid("subject_id", "is %d bytes, limit is %d", len(subjectID), maxSubjectID)
	}
	return nil
}

// checkConsentRequest checks the subject id and purpose of a consent
// change.
func checkConsentRequest(subjectID, purpose string) error {
	if err := checkSubject(subjectID); err != nil {
		return err
	}
	if purpose == "" {
		return Invalid("purpose", "is required")
	}
	return nil
}

// SetConsent records subjectID's consent to purpose, replacing any earlier
// record for that purpose. It takes effect for the next detokenize call.
func (s *Subjects) SetConsent(ctx context.Context, caller, subjectID, purpose, basis string, expires time.Time) (Consent, error) {
	if err := checkConsentRequest(subjectID, purpose); err != nil {
		return Consent{}, err
	}
	// Consents exist only for declared purposes, so the audit log never
	// holds a purpose a caller made up.
	if err := s.CheckPurpose(purpose); err != nil {
		return Consent{}, err
	}
	if err := consentPurpose(s.policy.Load(), purpose); err != nil {
		return Consent{}, err
	}
	if !slices.Contains(lawfulBases, basis) {
		return Consent{}, Invalid("lawful_basis", "must be one of %v", lawfulBases)
	}
	now := s.now().UTC()
	if !expires.IsZero() && !expires.After(now) {
		return Consent{}, Invalid("expires_at", "is in the past")
	}
	c := store.Consent{Subject: []byte(s.fp.Subject(subjectID)), Purpose: purpose, LawfulBasis: basis, GrantedAt: now, ExpiresAt: expires}
	if err := s.intent(ctx, AuditEvent{Caller: caller, Purpose: purpose, Op: audit.OpConsentSet, Subject: string(c.Subject)}); err != nil {
		return Consent{}, err
	}
	if err := s.store.PutConsent(ctx, c); err != nil {
		return Consent{}, fmt.Errorf("core: consent: %w", err)
	}
	if err := s.record(ctx, AuditEvent{Caller: caller, Purpose: purpose, Op: audit.OpConsentSet, Count: 1, Decision: audit.DecisionAllow, Subject: string(c.Subject), Reason: basis}); err != nil {
		return Consent{}, err
	}
	return consentView(subjectID, c, now), nil
}

// RevokeConsent revokes subjectID's consent to purpose at once; detokenize
// calls for that purpose are denied from the next call on.
func (s *Subjects) RevokeConsent(ctx context.Context, caller, subjectID, purpose string) (Consent, error) {
	if err := checkConsentRequest(subjectID, purpose); err != nil {
		return Consent{}, err
	}
	// Consents exist only for declared purposes, so the audit log never
	// holds a purpose a caller made up.
	if err := s.CheckPurpose(purpose); err != nil {
		return Consent{}, err
	}
	fp := []byte(s.fp.Subject(subjectID))
	cs, err := s.store.Consents(ctx, fp)
	if err != nil {
		return Consent{}, fmt.Errorf("core: consent: %w", err)
	}
	i := slices.IndexFunc(cs, func(c store.Consent) bool { return c.Purpose == purpose })
	if i < 0 {
		return Consent{}, ErrNoConsentRecord
	}
	now := s.now().UTC()
	c := cs[i]
	if c.RevokedAt.IsZero() {
		if err := s.intent(ctx, AuditEvent{Caller: caller, Purpose: purpose, Op: audit.OpConsentRevoke, Subject: string(fp)}); err != nil {
			return Consent{}, err
		}
		c.RevokedAt = now
		if err := s.store.PutConsent(ctx, c); err != nil {
			return Consent{}, fmt.Errorf("core: consent: %w", err)
		}
	}
	if err := s.record(ctx, AuditEvent{Caller: caller, Purpose: purpose, Op: audit.OpConsentRevoke, Count: 1, Decision: audit.DecisionAllow, Subject: string(fp)}); err != nil {
		return Consent{}, err
	}
	return consentView(subjectID, c, now), nil
}

// ListConsents returns every consent record of subjectID.
func (s *Subjects) ListConsents(ctx context.Context, caller, subjectID string) ([]Consent, error) {
	if err := checkSubject(subjectID); err != nil {
		return nil, err
	}
	fp := []byte(s.fp.Subject(subjectID))
	cs, err := s.store.Consents(ctx, fp)
	if err != nil {
		return nil, fmt.Errorf("core: consent: %w", err)
	}
	if err := s.record(ctx, AuditEvent{Caller: caller, Op: audit.OpConsentList, Count: len(cs), Decision: audit.DecisionAllow, Subject: string(fp)}); err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Consent, len(cs))
	for i, c := range cs {
		out[i] = consentView(subjectID, c, now)
	}
	return out, nil
}

func consentView(subjectID string, c store.Consent, now time.Time) Consent {
	return Consent{SubjectID: subjectID, Purpose: c.Purpose, LawfulBasis: c.LawfulBasis, GrantedAt: c.GrantedAt, ExpiresAt: c.ExpiresAt, RevokedAt: c.RevokedAt, Live: c.Live(now)}
}

// SetPolicy installs p for every call that starts after it returns.
func (s *registry) SetPolicy(p *policy.Policy) { s.policy.Store(p) }

func isDenial(err error) bool {
	return errors.Is(err, ErrDenied) || errors.Is(err, ErrNoConsent)
}
