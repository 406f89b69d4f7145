package core

import (
	"context"
	"errors"
	"time"

	"github.com/privacyvault/privacyvault/audit"
)

// Observer watches the data plane's outcomes, e.g. for metrics and traces,
// so that core itself imports neither. It is called once per distinct
// outcome of a call, not per item, and must be cheap and safe for
// concurrent use. Every name it receives is declared in the configuration
// (or a fixed placeholder): never a value, a token or a subject.
type Observer interface {
	// Items counts n items of one call that ended with outcome o.
	Items(o Outcome, n int)
	// Refresh is called when a keyring refresh starts; the returned func
	// is called with its result.
	Refresh(ctx context.Context) (context.Context, func(error))
}

// Outcome is how items of one operation ended.
type Outcome struct {
	Op      string // tokenize, detokenize, lookup
	Class   string // a configured class, or "(unknown)"
	Mode    string // the class's token mode; "" for unknown classes
	Purpose string // a declared purpose, "(undeclared)", or "" for tokenize and lookup
	// Result is ok, denied (refused by policy, consent, quota or a
	// honeytoken) or error (the item could not be served).
	Result string
	// Reason says why: for ok detokenize items the reveal level (plain,
	// masked, redacted); for denied items policy, consent, honeytoken or
	// quota; for errors invalid, not_found, expired or retired.
	Reason string
}

// Outcome results.
const (
	ResultOK     = "ok"
	ResultDenied = "denied"
	ResultError  = "error"
)

// outcomes tallies a call's items by outcome; a call has few distinct
// outcomes, so a linear scan beats a map.
type outcomes struct {
	o []Outcome
	n []int
}

func (t *outcomes) add(o Outcome, n int) int {
	for i := range t.o {
		if t.o[i] == o {
			t.n[i] += n
			return i
		}
	}
	t.o = append(t.o, o)
	t.n = append(t.n, n)
	return len(t.o) - 1
}

func (t *outcomes) report(obs Observer) {
	for i, o := range t.o {
		obs.Items(o, t.n[i])
	}
}

// observeTokens reports a tokenize or lookup call's results.
func (s *DataPlane) observeTokens(op string, classes []string, res []TokenResult) {
	s.tallyTokens(op, classes, res).report(s.obs)
}

// tallyTokens counts the outcomes observeTokens reports (nothing without
// an observer): a large tokenize call counts while its syncs run and
// reports once they succeeded.
func (s *DataPlane) tallyTokens(op string, classes []string, res []TokenResult) *outcomes {
	var t outcomes
	if s.obs == nil {
		return &t
	}
	last := 0 // entry of the item before
	for i, r := range res {
		if i > 0 && r.Err == nil && res[i-1].Err == nil && classes[i] == classes[i-1] {
			t.n[last]++ // same outcome as the item before: a batch's usual run
			continue
		}
		o := s.outcome(op, classes[i], "")
		o.Result, o.Reason = itemResult(r.Err)
		last = t.add(o, 1)
	}
	return &t
}

// observeReveals reports a detokenize call's results.
func (s *DataPlane) observeReveals(purpose string, items []DetokenizeItem, res []Revealed) {
	if s.obs == nil {
		return
	}
	var t outcomes
	purpose = s.auditPurpose(purpose)
	last := 0 // entry of the item before
	for i, r := range res {
		if i > 0 && r.Err == nil && res[i-1].Err == nil && r.Level == res[i-1].Level && items[i].Class == items[i-1].Class {
			t.n[last]++ // same outcome as the item before: a batch's usual run
			continue
		}
		o := s.outcome(string(audit.OpDetokenize), items[i].Class, purpose)
		o.Result, o.Reason = itemResult(r.Err)
		switch {
		case r.Err == nil:
			o.Reason = r.Level.String()
		case r.Err == ErrDenied:
			// Detokenize refuses a honeytoken with the bare sentinel;
			// policy denials wrap it with their reason.
			o.Reason = "honeytoken"
		}
		last = t.add(o, 1)
	}
	t.report(s.obs)
}

// observeQuota reports a detokenize call refused whole by a quota.
func (s *DataPlane) observeQuota(purpose string, items []DetokenizeItem) {
	if s.obs == nil {
		return
	}
	var t outcomes
	purpose = s.auditPurpose(purpose)
	for _, it := range items {
		o := s.outcome(string(audit.OpDetokenize), it.Class, purpose)
		o.Result, o.Reason = ResultDenied, "quota"
		t.add(o, 1)
	}
	t.report(s.obs)
}

// outcome labels one item; purpose is already a declared name or
// placeholder (auditPurpose), or "" for tokenize and lookup.
func (s *DataPlane) outcome(op, class, purpose string) Outcome {
	o := Outcome{Op: op, Class: unknownClass, Purpose: purpose}
	if sl, ok := s.classes[class]; ok {
		o.Class, o.Mode = class, string(sl.spec.Mode)
	}
	return o
}

// itemResult classifies one item's error into a result and a reason from
// a fixed set (error texts never become labels).
func itemResult(err error) (string, string) {
	if err == nil {
		return ResultOK, "" // before inv, which escapes: no allocation per good item
	}
	var inv *InvalidError
	switch {
	case errors.Is(err, ErrNoConsent):
		return ResultDenied, "consent"
	case errors.Is(err, ErrDenied):
		return ResultDenied, "policy"
	case errors.As(err, &inv):
		return ResultError, "invalid"
	case errors.Is(err, ErrNotFound):
		return ResultError, "not_found"
	case errors.Is(err, ErrExpired):
		return ResultError, "expired"
	case errors.Is(err, ErrRetired):
		return ResultError, "retired"
	}
	return ResultError, "other"
}

// KeyHealth is the key state the sidecar exports as metrics.
type KeyHealth struct {
	// LastRefresh is when every keyring was last fetched from the key
	// provider.
	LastRefresh time.Time
	// GracePeriod is how long cached keys serve after LastRefresh; 0 is
	// forever.
	GracePeriod time.Duration
	Classes     []ClassKeys
}

// ClassKeys is the cached keyring of one class.
type ClassKeys struct {
	Class                string
	Mode                 string
	Versions             int
	Current              uint32
	MinDecryptionVersion uint32
}

// KeyHealth reports the cached keyrings; it makes no key-provider or store
// call, so it is cheap enough for every metrics scrape.
func (s *registry) KeyHealth() KeyHealth {
	h := KeyHealth{LastRefresh: time.Unix(0, s.lastSync.Load()), GracePeriod: s.grace}
	for _, name := range s.classNames() {
		c := s.classes[name].load()
		h.Classes = append(h.Classes, ClassKeys{
			Class: name, Mode: string(c.Mode), Versions: len(c.ring.Versions()),
			Current: c.current, MinDecryptionVersion: c.ring.MinDecryptionVersion(),
		})
	}
	return h
}
