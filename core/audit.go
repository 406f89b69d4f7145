package core

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/privacyvault/privacyvault/audit"
)

// Auditor durably records what the data plane did. Record returns only
// once the event is durable; an error makes the call fail closed (the
// caller gets no values), as HashiCorp Vault refuses requests when no
// audit device can log.
type Auditor interface {
	Record(ctx context.Context, e AuditEvent) error
}

// AuditEvent is the audit log's event: core writes the log's own type,
// never a copy of it. It never carries a value or a token: tokens and
// subjects appear as keyed fingerprints.
type AuditEvent = audit.Event

// ErrAuditFailed means the audit event could not be written, so the call
// was refused.
var ErrAuditFailed = errors.New("audit log unavailable: request refused (fail-closed)")

func (s *trail) record(ctx context.Context, e AuditEvent) error {
	return s.auditFailed(ctx, e.Op, s.audit.Record(context.WithoutCancel(ctx), e))
}

// auditFailed counts and logs, once per call, an audit write that failed
// and returns the call's error; it returns nil for err == nil.
func (s *trail) auditFailed(ctx context.Context, op audit.Op, err error) error {
	if err == nil {
		return nil
	}
	s.alerts.AuditFailed()
	s.reg.log.ErrorContext(ctx, "audit write failed; refusing the call", "op", op, "error", err)
	return fmt.Errorf("%w: %v", ErrAuditFailed, err)
}

// eventKey groups the items of one call into events: one per class and
// subject, so every event names the subject whose data it touched and a
// subject's access report finds every call that touched it, however
// batched.
type eventKey struct{ class, subject string }

// events collects the events of one call.
type events struct {
	groups map[eventKey]*AuditEvent
	order  []eventKey
	// last is the group of the previous item: a batch's items are mostly
	// of one class and subject, so most items skip the map.
	lastKey eventKey
	last    *AuditEvent
	// hint is the number of items of the call, the token capacity of its
	// first event.
	hint int
}

// add folds one item into the event of its class and subject.
func (ev *events) add(base *AuditEvent, subject string, ok bool, tokenFP string) {
	e := ev.group(base, subject)
	e.Count++
	tally(e, ok)
	if tokenFP != "" {
		e.Tokens = append(e.Tokens, tokenFP)
	}
}

// addRun folds a run of items of one class and subject into their event:
// res and fps are theirs.
func (ev *events) addRun(base *AuditEvent, subject string, res []TokenResult, fps []string) {
	e := ev.group(base, subject)
	e.Count += len(res)
	ok := 0
	for i := range res {
		if res[i].Err == nil {
			ok++
		}
		if fps[i] != "" {
			e.Tokens = append(e.Tokens, fps[i])
		}
	}
	// tally's outcome depends only on which outcomes it saw.
	if ok > 0 {
		tally(e, true)
	}
	if ok < len(res) {
		tally(e, false)
	}
}

// group returns the event of base's class and subject, new if need be.
func (ev *events) group(base *AuditEvent, subject string) *AuditEvent {
	k := eventKey{base.Class, subject}
	e := ev.last
	if e == nil || k != ev.lastKey {
		e = ev.groups[k]
		if e == nil {
			if ev.groups == nil {
				ev.groups = map[eventKey]*AuditEvent{}
			}
			cp := *base
			e = &cp
			e.Subject = subject
			if len(ev.order) == 0 && ev.hint > 0 {
				e.Tokens = make([]string, 0, ev.hint)
			}
			ev.groups[k] = e
			ev.order = append(ev.order, k)
		}
		ev.last, ev.lastKey = e, k
	}
	return e
}

// auditTokens writes one event per class and subject for a tokenize or
// lookup call. fps[i], when not "", is the fingerprint of res[i].Token,
// computed with it; the others are computed here (fps nil: all).
func (s *DataPlane) auditTokens(ctx context.Context, caller, purpose string, op audit.Op, classes, subjects []string, res []TokenResult, fps []string) error {
	return s.recordAll(ctx, s.tokenEvents(caller, purpose, op, classes, subjects, res, fps))
}

// tokenEvents returns the events auditTokens writes.
func (s *DataPlane) tokenEvents(caller, purpose string, op audit.Op, classes, subjects []string, res []TokenResult, fps []string) events {
	if fps == nil {
		fps = make([]string, len(res))
	}
	missing := 0
	for i := range res {
		if res[i].Token != "" && fps[i] == "" {
			missing++
		}
	}
	switch {
	case missing >= 2*minChunk:
		slots := s.fpSlots(len(res))
		inParallel(len(res), func(lo, hi int) { s.fingerprintTokens(slots, classes, res, fps, lo, hi) })
	case missing > 0: // a few: not worth a goroutine
		s.fingerprintTokens(fpSlots{fp: s.fp}, classes, res, fps, 0, len(res))
	}
	ev := events{hint: len(res)}
	base := AuditEvent{Caller: caller, Purpose: purpose, Op: op}
	// A batch is mostly runs of one class and subject: one group lookup
	// and one tally a run.
	for i := 0; i < len(res); {
		if i == 0 || classes[i] != classes[i-1] {
			base.Class = s.auditClass(classes[i])
		}
		j := i + 1
		for j < len(res) && classes[j] == classes[i] && subjects[j] == subjects[i] {
			j++
		}
		ev.addRun(&base, subjects[i], res[i:j], fps[i:j])
		i = j
	}
	return ev
}

// list returns the events in the order of their first item.
func (ev *events) list() []AuditEvent {
	out := make([]AuditEvent, len(ev.order))
	for i, k := range ev.order {
		out[i] = *ev.groups[k]
	}
	return out
}

// fingerprintTokens fills the missing fingerprints of res[lo:hi].
func (s *DataPlane) fingerprintTokens(slots fpSlots, classes []string, res []TokenResult, fps []string, lo, hi int) {
	for i := lo; i < hi; i++ {
		if res[i].Token != "" && fps[i] == "" {
			fps[i] = s.tokenFPIn(slots, i, classes[i], res[i].Token, true) // issued by Encode
		}
	}
}

// unknownClass stands for class names that are not configured: a caller
// may have put anything there, even a value, so it is never recorded.
const unknownClass = "(unknown)"

func (s *trail) auditClass(name string) string {
	if _, ok := s.reg.classes[name]; ok {
		return name
	}
	return unknownClass
}

// auditPurpose records a purpose only when the policy declares it (or
// declares none), for the same reason as auditClass.
func (s *trail) auditPurpose(p string) string {
	if s.reg.policy.Load().Declared(p) {
		return p
	}
	return "(undeclared)"
}

// recordAll writes the events of one call. Several events are appended
// concurrently, so they share the log's group commit instead of waiting
// for one fsync each; their order in the log is not defined.
func (s *trail) recordAll(ctx context.Context, ev events) error {
	if j := audit.JointFrom(ctx); j != nil {
		j.Expect(len(ev.order)) // the sink commits them together
	}
	if len(ev.order) == 1 {
		return s.record(ctx, *ev.groups[ev.order[0]])
	}
	errs := make([]error, len(ev.order))
	var wg sync.WaitGroup
	for i, k := range ev.order {
		wg.Go(func() { errs[i] = s.audit.Record(context.WithoutCancel(ctx), *ev.groups[k]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return s.auditFailed(ctx, ev.groups[ev.order[i]].Op, err)
		}
	}
	return nil
}

// tally folds one item's outcome into the event's decision: allow when
// every item succeeded, deny when none did, partial otherwise.
func tally(e *AuditEvent, ok bool) {
	switch {
	case e.Decision == "":
		e.Decision = map[bool]audit.Decision{true: audit.DecisionAllow, false: audit.DecisionDeny}[ok]
	case (e.Decision == audit.DecisionAllow) != ok:
		e.Decision = audit.DecisionPartial
	}
}

func itemClasses(items []TokenizeItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Class
	}
	return out
}

func (s *DataPlane) subjects(items []TokenizeItem) []string {
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
func (s *trail) RecordAdmin(ctx context.Context, caller, op, class string, opErr error) error {
	e := AuditEvent{Caller: caller, Op: audit.AdminOp(op), Count: 1, Decision: audit.DecisionAllow}
	if class != "" {
		e.Class = s.auditClass(class) // a name that is no class is never written
	}
	if opErr != nil {
		e.Decision, e.Reason = audit.DecisionError, publicReason(opErr)
	}
	return s.record(ctx, e)
}
