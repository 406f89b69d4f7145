package tokenizer

import "errors"

// Errors returned by this package. Messages never contain a value, a token
// or key material.
var (
	// ErrMalformedToken means the token does not decode or its integrity tag
	// does not verify under the class — tampered, truncated, or issued in
	// another class.
	ErrMalformedToken = errors.New("token is malformed or does not belong to this class")
	// ErrDecrypt means a sealed value failed authentication.
	ErrDecrypt = errors.New("sealed value failed authentication")
)
