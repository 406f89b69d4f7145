package core

import (
	"errors"
	"fmt"
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
)

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
