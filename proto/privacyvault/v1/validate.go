package privacyvaultv1

// Validate methods give the server's validation interceptor the
// request-level rules; item-level rules live in the server so that one bad
// item does not fail a batch. Errors name the field and never echo input.

// FieldError is a request-level rule that one field breaks. The server
// answers it with InvalidArgument and a google.rpc.BadRequest field
// violation naming Field.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Validate reports whether the request has items.
func (r *TokenizeRequest) Validate() error {
	if len(r.GetItems()) == 0 {
		return &FieldError{Field: "items", Reason: "at least one item is required"}
	}
	return nil
}

// Validate reports whether the request names a purpose and has items.
func (r *DetokenizeRequest) Validate() error {
	if r.GetPurpose() == "" {
		return &FieldError{Field: "purpose", Reason: "is required; say why the values are needed"}
	}
	if len(r.GetItems()) == 0 {
		return &FieldError{Field: "items", Reason: "at least one item is required"}
	}
	return nil
}

// Validate reports whether the request has items.
func (r *LookupRequest) Validate() error {
	if len(r.GetItems()) == 0 {
		return &FieldError{Field: "items", Reason: "at least one item is required"}
	}
	return nil
}
