package api_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/identity"
	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/server/api"
)

// secret stands for what an internal error may hold (an address, a path,
// a key name): it must never reach a status message.
const secret = "vault.internal:8200/v1/transit/keys/card"

// TestStatus maps every domain error, wrapped as core and the handlers
// wrap them, to its code, its ErrorInfo reason and whether it is logged
// as internal.
func TestStatus(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("core: detokenize %s: %w", secret, err) }
	tests := []struct {
		name     string
		err      error
		code     codes.Code
		reason   string // ErrorInfo reason, "" for none
		internal bool
	}{
		{"nil", nil, codes.OK, "", false},
		{"invalid", core.Invalid("value", "must not be empty"), codes.InvalidArgument, "", false},
		{"expired", wrap(core.ErrExpired), codes.NotFound, "TOKEN_EXPIRED", false},
		{"not found", wrap(core.ErrNotFound), codes.NotFound, "TOKEN_NOT_FOUND", false},
		{"retired", wrap(core.ErrRetired), codes.FailedPrecondition, "KEY_VERSION_RETIRED", false},
		{"precondition", &core.PreconditionError{Reason: "version 3 is current"}, codes.FailedPrecondition, "", false},
		{"no consent record", wrap(core.ErrNoConsentRecord), codes.NotFound, "", false},
		{"no job", wrap(core.ErrNoJob), codes.NotFound, "", false},
		{"keys stale", wrap(core.ErrKeysStale), codes.Unavailable, "", false},
		{"quota", &core.QuotaError{Per: time.Minute, Max: 10}, codes.ResourceExhausted, "QUOTA_EXCEEDED", false},
		{"no consent", wrap(core.ErrNoConsent), codes.PermissionDenied, "CONSENT_REQUIRED", false},
		{"audit failure", fmt.Errorf("%w: %v", core.ErrAuditFailed, errors.New("write "+secret+": no space left on device")), codes.Unavailable, "", false},
		{"receipt unsigned", wrap(core.ErrReceiptUnsigned), codes.Unavailable, "", true},
		{"deletion receipt unsigned", wrap(core.ErrDeletionReceiptUnsigned), codes.Unavailable, "", true},
		{"undeclared purpose", &core.UndeclaredPurposeError{Declared: []string{"payment"}, Near: "payment"}, codes.PermissionDenied, "UNDECLARED_PURPOSE", false},
		{"batch too large", &api.BatchTooLargeError{Items: 1001, Limit: 1000}, codes.InvalidArgument, "BATCH_TOO_LARGE", false},
		{"not subject manager", core.ErrNotSubjectManager, codes.PermissionDenied, "", false},
		{"not admin", core.ErrNotAdmin, codes.PermissionDenied, "", false},
		{"denied", fmt.Errorf("%w (no grant for %s)", core.ErrDenied, secret), codes.PermissionDenied, "", false},
		{"unauthenticated", fmt.Errorf("%w: bad token %s", identity.ErrUnauthenticated, secret), codes.Unauthenticated, "", false},
		{"kms unavailable", wrap(fmt.Errorf("%w: dial %s", kms.ErrUnavailable, secret)), codes.Unavailable, "", true},
		{"canceled", wrap(context.Canceled), codes.Canceled, "", false},
		{"deadline", wrap(context.DeadlineExceeded), codes.DeadlineExceeded, "", false},
		{"grpc status", status.Error(codes.AlreadyExists, "exists"), codes.AlreadyExists, "", false},
		{"internal", wrap(errors.New("badger: corrupt value log")), codes.Internal, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, internal := api.Status(tt.err, "items[2]")
			if st.Code() != tt.code || internal != tt.internal {
				t.Errorf("Status(%v) = %v, internal %v, want %v, internal %v", tt.err, st.Code(), internal, tt.code, tt.internal)
			}
			if strings.Contains(st.Message(), secret) {
				t.Errorf("Status(%v).Message() = %q, holds the internal detail %q", tt.err, st.Message(), secret)
			}
			if got := reason(st); got != tt.reason {
				t.Errorf("Status(%v) ErrorInfo reason = %q, want %q", tt.err, got, tt.reason)
			}
		})
	}
}

// TestStatusInvalidField: an invalid field is named under the item's path,
// in the message and in the BadRequest detail.
func TestStatusInvalidField(t *testing.T) {
	tests := []struct {
		item, field, want string
	}{
		{"items[3]", "value", "items[3].value"},
		{"", "class", "class"},
		{"items[0]", "", "items[0]"},
	}
	for _, tt := range tests {
		st, _ := api.Status(core.Invalid(tt.field, "is wrong"), tt.item)
		var got string
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok && len(br.FieldViolations) == 1 {
				got = br.FieldViolations[0].Field
			}
		}
		if got != tt.want || !strings.HasPrefix(st.Message(), tt.want+": ") {
			t.Errorf("Status(Invalid(%q), %q) field = %q, message %q, want %q", tt.field, tt.item, got, st.Message(), tt.want)
		}
	}
}

func reason(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.Reason
		}
	}
	return ""
}
