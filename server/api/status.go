// Package api holds what every service handler shares: the one mapping
// from domain errors to gRPC statuses.
package api

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/identity"
	"github.com/privacyvault/privacyvault/kms"
)

// Domain is the ErrorInfo domain of privacyvault's error reasons.
const Domain = "privacyvault.dev"

// Status maps err to a gRPC status. field is the path of the item the error
// belongs to ("items[3]"), or "" for request-level errors; an invalid field
// inside the item is appended to it. Errors with no mapping become Internal
// with a generic message: their text stays in the server log only.
//
// Status reports internal=true when the error is a server-side problem the
// caller cannot fix, so that it is logged exactly once, by the caller of
// Status. Messages never carry what such errors hold (internal addresses,
// file paths, key names): those go to the server log only.
func Status(err error, field string) (st *status.Status, internal bool) {
	var (
		big        *BatchTooLargeError
		inv        *core.InvalidError
		pre        *core.PreconditionError
		quota      *core.QuotaError
		undeclared *core.UndeclaredPurposeError
	)
	switch {
	case err == nil:
		return status.New(codes.OK, ""), false
	case errors.As(err, &big):
		return withDetails(status.New(codes.InvalidArgument, big.Error()),
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
				{Field: "items", Description: big.Error()},
			}},
			&errdetails.ErrorInfo{Reason: "BATCH_TOO_LARGE", Domain: Domain, Metadata: map[string]string{"max_batch": strconv.Itoa(big.Limit)}}), false
	case errors.As(err, &inv):
		path := joinField(field, inv.Field)
		return withDetails(status.New(codes.InvalidArgument, path+": "+inv.Reason),
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
				{Field: path, Description: inv.Reason},
			}}), false
	case errors.Is(err, core.ErrExpired):
		return withDetails(status.New(codes.NotFound, core.ErrExpired.Error()),
			&errdetails.ErrorInfo{Reason: "TOKEN_EXPIRED", Domain: Domain}), false
	case errors.Is(err, core.ErrNotFound):
		return withDetails(status.New(codes.NotFound, "token not found"),
			&errdetails.ErrorInfo{Reason: "TOKEN_NOT_FOUND", Domain: Domain}), false
	case errors.Is(err, core.ErrRetired):
		return withDetails(status.New(codes.FailedPrecondition, core.ErrRetired.Error()),
			&errdetails.ErrorInfo{Reason: "KEY_VERSION_RETIRED", Domain: Domain}), false
	case errors.As(err, &pre):
		return status.New(codes.FailedPrecondition, pre.Reason), false
	case errors.Is(err, core.ErrNoConsentRecord):
		return status.New(codes.NotFound, core.ErrNoConsentRecord.Error()), false
	case errors.Is(err, core.ErrNoJob):
		return status.New(codes.NotFound, core.ErrNoJob.Error()), false
	case errors.Is(err, core.ErrKeysStale):
		return status.New(codes.Unavailable, core.ErrKeysStale.Error()+"; retry later"), false
	case errors.As(err, &quota):
		return withDetails(status.New(codes.ResourceExhausted, quota.Error()),
			&errdetails.ErrorInfo{Reason: "QUOTA_EXCEEDED", Domain: Domain},
			&errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{Subject: "caller and purpose", Description: quota.Error()}}}), false
	case errors.Is(err, core.ErrNoConsent):
		return withDetails(status.New(codes.PermissionDenied, core.ErrNoConsent.Error()),
			&errdetails.ErrorInfo{Reason: "CONSENT_REQUIRED", Domain: Domain}), false
	case errors.Is(err, core.ErrAuditFailed):
		// Core has logged the write failure already.
		return status.New(codes.Unavailable, core.ErrAuditFailed.Error()), false
	case errors.Is(err, core.ErrReceiptUnsigned):
		return status.New(codes.Unavailable, core.ErrReceiptUnsigned.Error()), true
	case errors.Is(err, core.ErrDeletionReceiptUnsigned):
		return status.New(codes.Unavailable, core.ErrDeletionReceiptUnsigned.Error()), true
	case errors.Is(err, core.ErrNotSubjectManager):
		return status.New(codes.PermissionDenied, core.ErrNotSubjectManager.Error()), false
	case errors.Is(err, core.ErrNotAdmin):
		return status.New(codes.PermissionDenied, core.ErrNotAdmin.Error()), false
	case errors.As(err, &undeclared):
		return withDetails(status.New(codes.PermissionDenied, undeclared.Error()),
			&errdetails.ErrorInfo{Reason: "UNDECLARED_PURPOSE", Domain: Domain}), false
	case errors.Is(err, core.ErrDenied):
		return status.New(codes.PermissionDenied, "no grant allows this caller to read the class for the stated purpose"), false
	case errors.Is(err, identity.ErrUnauthenticated):
		return status.New(codes.Unauthenticated, identity.ErrUnauthenticated.Error()), false
	case errors.Is(err, kms.ErrUnavailable):
		return status.New(codes.Unavailable, "key provider unavailable; retry later"), true
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, "request canceled"), false
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, "deadline exceeded"), false
	}
	if st, ok := status.FromError(err); ok {
		return st, false
	}
	return status.New(codes.Internal, "internal error"), true
}

// BatchTooLargeError refuses a call with more items than the server's
// batch limit. Its status carries the limit (ErrorInfo BATCH_TOO_LARGE,
// metadata max_batch) so that SDKs can split the batch and retry.
type BatchTooLargeError struct {
	Items, Limit int
}

func (e *BatchTooLargeError) Error() string {
	return fmt.Sprintf("items: batch has %d items, limit is %d", e.Items, e.Limit)
}

func joinField(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	}
	return prefix + "." + field
}

// withDetails attaches details to st. WithDetails fails only for an OK
// status, which is never passed here.
func withDetails(st *status.Status, details ...protoadapt.MessageV1) *status.Status {
	d, err := st.WithDetails(details...)
	if err != nil {
		return st
	}
	return d
}
