package client

import "time"

// ItemOption sets an optional field of a single-value Tokenize, Detokenize
// or Lookup.
type ItemOption func(*itemOpts)

type itemOpts struct {
	subject string
	context string
	tweak   []byte
	ttl     time.Duration
}

// itemOptions applies opts. The options live on the heap only when there
// are any: passing &o to an unknown function makes it escape.
func itemOptions(opts []ItemOption) itemOpts {
	if len(opts) == 0 {
		return itemOpts{}
	}
	o := new(itemOpts)
	for _, f := range opts {
		f(o)
	}
	return *o
}

// WithSubject links the value to a data subject (a customer id): consents,
// access reports and erasure follow it. Lookup and the detokenize of an
// fpe token for a consent-requiring purpose need it again.
func WithSubject(id string) ItemOption { return func(o *itemOpts) { o.subject = id } }

// WithTokenContext mixes ctx into the tweak of fpe and hash classes: the
// same value in two contexts gets two tokens. Detokenize needs it again.
func WithTokenContext(ctx string) ItemOption { return func(o *itemOpts) { o.context = ctx } }

// WithTweak sets the 7-byte tweak of an ff3-1 class.
func WithTweak(tweak []byte) ItemOption { return func(o *itemOpts) { o.tweak = tweak } }

// WithTTL shortens the class retention for this token (vaulted classes).
func WithTTL(d time.Duration) ItemOption { return func(o *itemOpts) { o.ttl = d } }
