package format

import (
	"errors"
	"unsafe"
)

// cipher binds an Engine to one call: format name (for errors), tweak and
// direction. Its methods check the Engine's output, so the formats can index it
// without re-checking.
type cipher struct {
	e       Engine
	tweak   []byte
	name    string
	decrypt bool // apply runs Decrypt instead of Encrypt
}

func newCipher(name string, e Engine, tweak []byte, decrypt bool) (cipher, error) {
	if e == nil {
		return cipher{}, &Error{Format: name, Reason: "engine is nil", Err: ErrEngine}
	}
	return cipher{e: e, tweak: tweak, name: name, decrypt: decrypt}, nil
}

// transformAt encrypts (or decrypts) the characters of buf at pos, all of
// charset cs, and returns the result, which shares buf's memory (the caller
// must not use buf afterwards): the whole transform of the formats
// whose parse yields those positions (digits, alphanumeric, alphabet, ssn,
// phone, email).
func transformAt(name string, cs *charset, e Engine, tweak []byte, decrypt bool, buf []byte, pos []int) (string, error) {
	c, err := newCipher(name, e, tweak, decrypt)
	if err != nil {
		return "", err
	}
	if err := cs.transform(c, buf, pos); err != nil {
		return "", err
	}
	// buf is the caller's private copy of the value and nothing writes it
	// after this, so the result can share it instead of copying it.
	return unsafe.String(unsafe.SliceData(buf), len(buf)), nil
}

// apply runs the cipher in its direction.
func (c cipher) apply(alphabet, s string) (string, error) {
	if c.decrypt {
		return c.inv(alphabet, s)
	}
	return c.fwd(alphabet, s)
}

// fwd always encrypts (also while decrypting, e.g. to test for fixed points).
func (c cipher) fwd(alphabet, s string) (string, error) {
	out, err := c.e.Encrypt(alphabet, c.tweak, s)
	return c.check(alphabet, s, out, err, "engine encrypt failed")
}

// inv always decrypts.
func (c cipher) inv(alphabet, s string) (string, error) {
	out, err := c.e.Decrypt(alphabet, c.tweak, s)
	return c.check(alphabet, s, out, err, "engine decrypt failed")
}

func (c cipher) check(alphabet, in, out string, err error, reason string) (string, error) {
	if err != nil {
		if errors.Is(err, ErrIrreversible) {
			reason = "engine is irreversible (hash mode)"
		}
		return "", &Error{Format: c.name, Reason: reason, Err: ErrEngine, Cause: err}
	}
	if len(out) != len(in) || !inAlphabet(alphabet, out) {
		return "", &Error{Format: c.name, Reason: "engine returned a string of the wrong length or alphabet", Err: ErrEngine}
	}
	return out, nil
}

func inAlphabet(alphabet, s string) bool {
	var set [256]bool
	for i := 0; i < len(alphabet); i++ {
		set[alphabet[i]] = true
	}
	for i := 0; i < len(s); i++ {
		if !set[s[i]] {
			return false
		}
	}
	return true
}
