package admin

import "context"

// changing runs an admin operation that changes state: its intent event
// must be durable before it runs (if it cannot be written, nothing
// changes and the caller gets the audit failure), and its outcome is
// recorded after it. Refusals and unknown classes are handled as in
// audited, before any intent.
func changing[T any](ctx context.Context, s *Service, op, class string, f func() (T, error)) (T, error) {
	var zero T
	caller, err := s.admit(ctx, op, class)
	if err != nil {
		return zero, err
	}
	if err := s.core.RecordAdminIntent(ctx, caller, op, class); err != nil {
		return zero, err
	}
	v, err := f()
	if aerr := s.core.RecordAdmin(ctx, caller, op, class, err); aerr != nil {
		return zero, aerr
	}
	return v, err
}
