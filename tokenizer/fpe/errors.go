package fpe

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error returned by this package is an *Error that
// wraps exactly one of them, so callers test with errors.Is.
var (
	// ErrKeySize reports a key that is not 16, 24 or 32 bytes long.
	ErrKeySize = errors.New("fpe: key must be 16, 24 or 32 bytes")
	// ErrAlphabet reports an alphabet with a repeated rune or invalid UTF-8.
	ErrAlphabet = errors.New("fpe: invalid alphabet")
	// ErrRadix reports a radix, or alphabet length, outside [2, 65536].
	ErrRadix = errors.New("fpe: radix out of range")
	// ErrNoAlphabet reports a string method called on a cipher built by
	// NewFF1Radix or NewFF31Radix, which only has numerals.
	ErrNoAlphabet = errors.New("fpe: cipher has no alphabet")
	// ErrInvalidInput reports a character outside the alphabet, or a numeral
	// not below the radix.
	ErrInvalidInput = errors.New("fpe: input outside the alphabet")
	// ErrTooShort reports an input whose domain radix^len is below the
	// 1,000,000 minimum of SP 800-38G Rev. 1.
	ErrTooShort = errors.New("fpe: input too short")
	// ErrTooLong reports an input over the length limit: 2·⌊log_radix(2^96)⌋
	// for FF3-1, MaxFF1Len for FF1.
	ErrTooLong = errors.New("fpe: input too long")
	// ErrTweakSize reports a tweak of the wrong length: FF3-1 needs exactly
	// 7 bytes, FF1 accepts at most MaxFF1TweakLen.
	ErrTweakSize = errors.New("fpe: invalid tweak size")
)

// Error describes a rejected key, alphabet or input.
//
// Detail only ever holds sizes, limits and positions, never key, tweak,
// plaintext or ciphertext content, so errors are safe to log.
type Error struct {
	Op     string // operation, e.g. "FF1.Encrypt"
	Err    error  // one of the sentinel errors above
	Detail string // non-secret context such as "length 5, minimum 6"
}

func (e *Error) Error() string {
	s := "fpe: " + e.Op + ": " + strings.TrimPrefix(e.Err.Error(), "fpe: ")
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

func newError(op string, err error, detail string) error {
	return &Error{Op: op, Err: err, Detail: detail}
}
