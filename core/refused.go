package core

import (
	"context"

	"github.com/privacyvault/privacyvault/audit"
)

// CheckClass returns an InvalidError on "class" unless name is a
// configured data class, so calls naming a class refuse any other name
// before they act or write it anywhere.
func (s *registry) CheckClass(name string) error {
	_, err := s.class(name)
	return err
}

// CheckPurpose returns an InvalidError on "purpose" unless the policy
// declares purpose (with no purposes declared, every one is).
func (s *registry) CheckPurpose(purpose string) error {
	switch {
	case purpose == "":
		return Invalid("purpose", "is required")
	case !s.policy.Load().Declared(purpose):
		return Invalid("purpose", "is not a purpose declared in the policy")
	}
	return nil
}

// RecordRefused audits a call refused because caller may not make it at
// all (not an admin, not a subject manager): a deny event for op, naming
// the class and the subject when the request named declared or valid ones,
// and one denied item towards the caller's denied-burst alert. denied is
// the refusal, returned unless the audit write fails, which is returned
// instead (fail-closed, as for every call).
func (s *trail) RecordRefused(ctx context.Context, caller string, op audit.Op, class, subjectID string, denied error) error {
	e := AuditEvent{Caller: caller, Op: op, Class: s.auditClass(class), Count: 1, Decision: audit.DecisionDeny, Reason: denied.Error()}
	if class == "" {
		e.Class = ""
	}
	if subjectID != "" && len(subjectID) <= maxSubjectID {
		e.Subject = s.fp.Subject(subjectID)
	}
	if err := s.record(ctx, e); err != nil {
		return err
	}
	if err := s.countDenials(ctx, caller, "", 1, s.reg.now()); err != nil {
		return err
	}
	return denied
}
