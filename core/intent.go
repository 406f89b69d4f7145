package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/store"
)

// ReasonIntent marks the event written before a change takes effect. The
// change's outcome follows in a second event with the same op (reason
// empty on success, the error otherwise). An intent with no outcome after
// it means the process stopped or the log failed mid-change: the change
// may or may not have taken effect, and key status or a re-read says which.
const ReasonIntent = "intent"

// intent durably records that caller is about to make a change. If it
// cannot be written the change must not be made: the caller gets
// ErrAuditFailed and nothing changes.
func (s *trail) intent(ctx context.Context, e AuditEvent) error {
	e.Decision, e.Reason = audit.DecisionAllow, ReasonIntent
	if e.Count == 0 {
		e.Count = 1
	}
	return s.record(ctx, e)
}

// RecordAdminIntent records that caller is about to run admin operation op
// on class; see ReasonIntent. Classes that are not configured are recorded
// as "(unknown)", since the name came from the caller.
func (s *trail) RecordAdminIntent(ctx context.Context, caller, op, class string) error {
	if class != "" {
		class = s.auditClass(class)
	}
	return s.intent(ctx, AuditEvent{Caller: caller, Op: audit.AdminOp(op), Class: class})
}

// receiptMeta names the stored facts of a subject's last erasure, kept so
// that the receipt can be signed again if signing failed the first time.
func receiptMeta(subjectFP string) string { return "erasure-receipt/" + subjectFP }

func (s *Subjects) saveReceipt(ctx context.Context, r audit.Receipt) error {
	r.KeyID, r.Signature = "", nil
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := s.store.PutMeta(context.WithoutCancel(ctx), receiptMeta(r.Subject), b); err != nil {
		return fmt.Errorf("core: save erasure receipt: %w", err)
	}
	return nil
}

// storedReceipt returns the unsigned facts of subjectFP's last erasure.
func (s *Subjects) storedReceipt(ctx context.Context, subjectFP string) (audit.Receipt, bool, error) {
	b, err := s.store.GetMeta(ctx, receiptMeta(subjectFP))
	if errors.Is(err, store.ErrNotFound) {
		return audit.Receipt{}, false, nil
	}
	if err != nil {
		return audit.Receipt{}, false, fmt.Errorf("core: erasure receipt: %w", err)
	}
	var r audit.Receipt
	if err := json.Unmarshal(b, &r); err != nil {
		return audit.Receipt{}, false, fmt.Errorf("core: erasure receipt: %w", err)
	}
	return r, true, nil
}

// ErrReceiptUnsigned means the erasure was done and recorded but its
// receipt could not be signed (e.g. the signer in Vault is unreachable);
// calling EraseSubject again returns the receipt once signing works.
var ErrReceiptUnsigned = errors.New("the subject was erased, but the receipt could not be signed now; call erase again to fetch the receipt")
