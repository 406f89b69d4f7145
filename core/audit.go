package core

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// Auditor durably records what the data plane did. Record returns only
// once the event is durable; an error makes the call fail closed (the
// caller gets no values), as HashiCorp Vault refuses requests when no
// audit device can log.
type Auditor interface {
	Record(ctx context.Context, e AuditEvent) error
}

// AuditEvent is one audited operation on one class. It never carries a
// value or a token: tokens and subjects appear as keyed fingerprints.
type AuditEvent struct {
	Caller   string
	Purpose  string
	Op       string
	Class    string
	Count    int
	Decision string // allow, deny, partial, error
	Reason   string
	Tokens   []string
	Subject  string
	Alert    string
}

// ErrAuditFailed means the audit event could not be written, so the call
// was refused.
var ErrAuditFailed = errors.New("audit log unavailable: request refused (fail-closed)")

func (s *Service) record(ctx context.Context, e AuditEvent) error {
	if err := s.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.alerts.AuditFailed()
		s.log.ErrorContext(ctx, "audit write failed; refusing the call", "op", e.Op, "class", e.Class, "error", err)
		return fmt.Errorf("%w: %v", ErrAuditFailed, err)
	}
	return nil
}

// auditTokens writes one event per class for a tokenize or lookup call.
func (s *Service) auditTokens(ctx context.Context, caller, purpose, op string, classes, subjects []string, res []TokenResult) error {
	groups := map[string]*AuditEvent{}
	var order []string
	for i, r := range res {
		class := s.auditClass(classes[i])
		e := groups[class]
		if e == nil {
			e = &AuditEvent{Caller: caller, Purpose: purpose, Op: op, Class: class}
			groups[class] = e
			order = append(order, class)
		}
		e.Count++
		tally(e, r.Err == nil)
		if r.Token != "" {
			e.Tokens = append(e.Tokens, s.tokenFP(classes[i], r.Token))
		}
		setSubject(e, subjects[i])
	}
	return s.recordAll(ctx, groups, order)
}

// auditReveals writes one event per class for a detokenize call.
func (s *Service) auditReveals(ctx context.Context, caller, purpose string, items []DetokenizeItem, subjects []string, res []Revealed) error {
	groups := map[string]*AuditEvent{}
	var order []string
	for i, r := range res {
		class := s.auditClass(items[i].Class)
		e := groups[class]
		if e == nil {
			e = &AuditEvent{Caller: caller, Purpose: s.auditPurpose(purpose), Op: "detokenize", Class: class}
			groups[class] = e
			order = append(order, class)
		}
		e.Count++
		tally(e, r.Err == nil)
		if items[i].Token != "" {
			e.Tokens = append(e.Tokens, s.tokenFP(items[i].Class, items[i].Token))
		}
		setSubject(e, subjects[i])
	}
	return s.recordAll(ctx, groups, order)
}

// unknownClass stands for class names that are not configured: a caller
// may have put anything there, even a value, so it is never recorded.
const unknownClass = "(unknown)"

func (s *Service) auditClass(name string) string {
	if _, ok := s.classes[name]; ok {
		return name
	}
	return unknownClass
}

// auditPurpose records a purpose only when the policy declares it (or
// declares none), for the same reason as auditClass.
func (s *Service) auditPurpose(p string) string {
	if s.policy.Load().Declared(p) {
		return p
	}
	return "(undeclared)"
}

func (s *Service) recordAll(ctx context.Context, groups map[string]*AuditEvent, order []string) error {
	sort.Strings(order)
	for _, class := range order {
		if err := s.record(ctx, *groups[class]); err != nil {
			return err
		}
	}
	return nil
}

// tally folds one item's outcome into the event's decision: allow when
// every item succeeded, deny when none did, partial otherwise.
func tally(e *AuditEvent, ok bool) {
	switch {
	case e.Decision == "":
		e.Decision = map[bool]string{true: "allow", false: "deny"}[ok]
	case (e.Decision == "allow") != ok:
		e.Decision = "partial"
	}
}

// setSubject keeps the subject fingerprint when every item of the event
// has the same one (per-subject reports then find it); mixed subjects
// leave it empty.
func setSubject(e *AuditEvent, subject string) {
	switch {
	case e.Count == 1:
		e.Subject = subject
	case e.Subject != subject:
		e.Subject = ""
	}
}

func itemClasses(items []TokenizeItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Class
	}
	return out
}

func (s *Service) subjects(items []TokenizeItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		if it.SubjectID != "" {
			out[i] = s.fp.Subject(it.SubjectID)
		}
	}
	return out
}

// RecordAdmin audits one admin call and its outcome. An admin call whose
// event cannot be written reports ErrAuditFailed.
func (s *Service) RecordAdmin(ctx context.Context, caller, op, class string, opErr error) error {
	e := AuditEvent{Caller: caller, Op: "admin." + op, Count: 1, Decision: "allow"}
	if class != "" {
		e.Class = s.auditClass(class) // a name that is no class is never written
	}
	if opErr != nil {
		e.Decision, e.Reason = "error", opErr.Error()
	}
	return s.record(ctx, e)
}
