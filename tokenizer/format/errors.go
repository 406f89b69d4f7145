package format

import "errors"

// Sentinel errors. Every error returned by this package is an *Error that wraps
// one of them (Engine failures wrap ErrEngine and the Engine's own error, e.g.
// ErrIrreversible), so callers branch with errors.Is.
var (
	// ErrInvalidSpec reports a Spec that New cannot build a format from.
	ErrInvalidSpec = errors.New("format: invalid spec")
	// ErrInvalidValue reports a value or token that does not parse as the format.
	ErrInvalidValue = errors.New("format: invalid value")
	// ErrDomainTooSmall reports a value whose transformable part has fewer than
	// MinDomain possible values, too few for FF1 (NIST SP 800-38G Rev. 1).
	ErrDomainTooSmall = errors.New("format: domain too small")
	// ErrIrreversible is what a one-way Engine (hash mode) returns from Decrypt.
	ErrIrreversible = errors.New("format: engine is irreversible")
	// ErrEngine reports that the Engine failed or returned a malformed string.
	ErrEngine = errors.New("format: engine failure")
	// ErrCycleWalk reports that cycle-walking did not reach a valid result within
	// MaxWalk steps. With a real cipher this is astronomically unlikely.
	ErrCycleWalk = errors.New("format: cycle walk limit reached")
)

// Error is the concrete type of every error returned by this package.
//
// Values are PII, so an Error never contains the value, the token or any part of
// them: Reason only describes the problem (counts, lengths, field names).
type Error struct {
	Format string // format name, e.g. "credit_card"; "" when the Spec has no valid name
	Field  string // offending Spec field by its YAML name, for ErrInvalidSpec; else ""
	Reason string // what is wrong, e.g. "value has 11 digits, want 12 to 19"
	Err    error  // the sentinel this error matches, e.g. ErrInvalidValue
	// Cause is the Engine's error, if any. It is reachable with errors.Is/As but
	// not rendered by Error, because an Engine's message may echo its input.
	Cause error
}

// Error renders "<format>: [<field>: ]<reason>".
func (e *Error) Error() string {
	prefix := e.Format
	if prefix == "" {
		prefix = "format"
	}
	if e.Field != "" {
		prefix += ": " + e.Field
	}
	return prefix + ": " + e.Reason
}

// Unwrap returns the sentinel and, if set, the Engine's error.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

func specError(name, field, reason string) error {
	return &Error{Format: name, Field: field, Reason: reason, Err: ErrInvalidSpec}
}

func valueError(name, reason string) error {
	return &Error{Format: name, Reason: reason, Err: ErrInvalidValue}
}

func domainError(name, reason string) error {
	return &Error{Format: name, Reason: reason, Err: ErrDomainTooSmall}
}

func walkError(name string) error {
	return &Error{Format: name, Reason: "cycle walk did not converge within the step limit", Err: ErrCycleWalk}
}
