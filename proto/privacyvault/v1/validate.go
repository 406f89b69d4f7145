package privacyvaultv1

import "errors"

// Validate methods give the go-grpc-middleware validator interceptor the
// request-level rules; item-level rules live in the server so that one bad
// item does not fail a batch. Messages name the field and never echo input.

// Validate reports whether the request has items.
func (r *TokenizeRequest) Validate() error {
	if len(r.GetItems()) == 0 {
		return errors.New("items: at least one item is required")
	}
	return nil
}

// Validate reports whether the request names a purpose and has items.
func (r *DetokenizeRequest) Validate() error {
	if r.GetPurpose() == "" {
		return errors.New("purpose: is required; say why the values are needed")
	}
	if len(r.GetItems()) == 0 {
		return errors.New("items: at least one item is required")
	}
	return nil
}

// Validate reports whether the request has items.
func (r *LookupRequest) Validate() error {
	if len(r.GetItems()) == 0 {
		return errors.New("items: at least one item is required")
	}
	return nil
}
