package core

import (
	"errors"
	"fmt"

	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/store"
)

// Errors a caller can act on. The server maps each to one gRPC code in one
// place; messages never carry a value, a token or key material.
var (
	// ErrNotFound means the token, or the value's token, does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExpired means the token existed but its retention has passed.
	ErrExpired = errors.New("token has expired under the class retention policy")
	// ErrDenied means policy does not let the caller read this class for
	// the stated purpose.
	ErrDenied = errors.New("permission denied")
	// ErrNotAdmin means the caller is not one of the configured admins.
	ErrNotAdmin = errors.New("admin operations are limited to the configured admin identities")
	// ErrNotSubjectManager means the caller may not manage data subjects.
	ErrNotSubjectManager = errors.New("subject operations are limited to the configured subject managers and admins")
	// ErrRetired means the record is sealed under a key version below the
	// class's minimum decryption version.
	ErrRetired = errors.New("token is sealed under a retired key version")
	// ErrKeysStale means the key provider has been unreachable for longer
	// than the grace period, so cached keys are no longer used.
	ErrKeysStale = errors.New("key provider unreachable for longer than the grace period")
)

// PreconditionError is an operation refused in the current state, e.g.
// retiring a key version that records still need.
type PreconditionError struct {
	Reason string
}

func (e *PreconditionError) Error() string { return e.Reason }

// InvalidError is bad input in one field of a request.
type InvalidError struct {
	// Field is the path of the field within its item ("value", "class").
	Field string
	// Reason says what is wrong, without echoing the input.
	Reason string
}

func (e *InvalidError) Error() string { return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason) }

// Invalid returns an *InvalidError for field.
func Invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// callerErrors are the errors whose own text callers may read.
var callerErrors = []error{ErrNotFound, ErrExpired, ErrDenied, ErrNotAdmin, ErrNotSubjectManager,
	ErrRetired, ErrKeysStale, ErrAuditFailed, ErrNoConsent, ErrNoConsentRecord, ErrNoJob}

// publicReason is the text of err that callers (job status, the audit
// log, which admins read) may see: the reason of errors they can act on,
// and a generic text for server-side failures, whose details (internal
// addresses, paths, key names) belong in the server log only.
func publicReason(err error) string {
	var (
		inv *InvalidError
		pre *PreconditionError
	)
	switch {
	case errors.As(err, &inv):
		return inv.Error()
	case errors.As(err, &pre):
		return pre.Reason
	case errors.Is(err, kms.ErrUnavailable):
		return "key provider unavailable"
	case errors.Is(err, store.ErrUnavailable):
		return "store unavailable"
	}
	for _, e := range callerErrors {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "internal error (details in the sidecar log)"
}

// isItemError reports whether err belongs to one item rather than to the
// whole call (a storage or key failure fails the call: nothing can be
// trusted about the rest of the batch then).
func isItemError(err error) bool {
	var inv *InvalidError
	return errors.As(err, &inv) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrExpired) ||
		errors.Is(err, ErrDenied) || errors.Is(err, ErrRetired) || errors.Is(err, ErrNoConsent)
}
