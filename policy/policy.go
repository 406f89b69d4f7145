// Package policy decides how much of a value a caller may see: a pure
// function of (identity, purpose, class, consent) over a grant table,
// default deny. It also answers which purposes need consent, which tokens
// are honeytokens and which quotas apply; counting against quotas is the
// caller's (package quota).
package policy

import (
	"fmt"
	"path"
	"time"
)

// Reveal is the level at which a value is returned.
type Reveal int

// Reveal levels, from nothing to everything. The zero value is Deny, so a
// missing grant can never reveal anything.
const (
	Deny Reveal = iota
	Redacted
	Masked
	Plain
)

// ParseReveal returns the level named s.
func ParseReveal(s string) (Reveal, error) {
	switch s {
	case "deny":
		return Deny, nil
	case "redacted":
		return Redacted, nil
	case "masked":
		return Masked, nil
	case "plain":
		return Plain, nil
	}
	return Deny, fmt.Errorf("unknown reveal level %q (want plain, masked, redacted or deny)", s)
}

// String returns the level's name.
func (r Reveal) String() string {
	switch r {
	case Redacted:
		return "redacted"
	case Masked:
		return "masked"
	case Plain:
		return "plain"
	}
	return "deny"
}

// Wildcard in a grant's Class matches every class.
const Wildcard = "*"

// Purpose is a reason a caller may state for reading values.
type Purpose struct {
	Name string
	// RequiresConsent means the value's subject must have a live consent
	// record for this purpose, or the answer is deny.
	RequiresConsent bool
}

// Grant allows identities matching Identity to read Class for Purpose at
// level Reveal. Identity is an exact identity or a pattern in path.Match
// syntax ("spiffe://prod.example/ns/shop/*"; '*' does not cross '/').
type Grant struct {
	Identity string
	Purpose  string
	Class    string // a class name or Wildcard
	Reveal   Reveal
}

// Limit is one quota window: at most Max items per Per.
type Limit struct {
	Per time.Duration
	Max int
}

// Quota limits how many items identities matching Identity may
// detokenize for Purpose, over several windows at once.
type Quota struct {
	Identity string
	Purpose  string
	Limits   []Limit
}

// Honeytoken is a canary token: nobody legitimate ever detokenizes it.
type Honeytoken struct {
	Class string
	Token string
}

// Spec is a whole policy as configured.
type Spec struct {
	// Purposes lists the purposes callers may state. Empty means any
	// purpose is accepted (and none requires consent).
	Purposes    []Purpose
	Grants      []Grant
	Quotas      []Quota
	Honeytokens []Honeytoken
}

// Reason says why a decision came out as it did.
type Reason string

// Reasons.
const (
	Granted         Reason = "granted"
	UnknownPurpose  Reason = "unknown_purpose"
	NoGrant         Reason = "no_grant"
	DeniedByGrant   Reason = "denied_by_grant"
	ConsentRequired Reason = "consent_required"
)

// Request is one question to the policy.
type Request struct {
	Identity string
	Purpose  string
	Class    string
	// Consent reports whether the value's subject has a live consent for
	// Purpose; it only matters for purposes that require consent.
	Consent bool
}

// Decision is the policy's answer.
type Decision struct {
	Reveal Reveal
	Reason Reason
}

// Policy is an immutable, validated policy.
type Policy struct {
	purposes    map[string]Purpose
	grants      []Grant
	quotas      []Quota
	honeytokens map[Honeytoken]bool
}

// New validates spec and returns the policy.
func New(spec Spec) (*Policy, error) {
	p := &Policy{honeytokens: map[Honeytoken]bool{}}
	if len(spec.Purposes) > 0 {
		p.purposes = map[string]Purpose{}
		for _, pu := range spec.Purposes {
			p.purposes[pu.Name] = pu
		}
	}
	for _, g := range spec.Grants {
		if _, err := path.Match(g.Identity, ""); err != nil {
			return nil, fmt.Errorf("grant identity %q: bad pattern", g.Identity)
		}
		if p.purposes != nil && !p.knownPurpose(g.Purpose) {
			return nil, fmt.Errorf("grant purpose %q is not a declared purpose", g.Purpose)
		}
	}
	p.grants = append(p.grants, spec.Grants...)
	for _, q := range spec.Quotas {
		if _, err := path.Match(q.Identity, ""); err != nil {
			return nil, fmt.Errorf("quota identity %q: bad pattern", q.Identity)
		}
		for _, l := range q.Limits {
			if l.Per <= 0 || l.Max <= 0 {
				return nil, fmt.Errorf("quota for %q/%q: limits need a positive window and maximum", q.Identity, q.Purpose)
			}
		}
	}
	p.quotas = append(p.quotas, spec.Quotas...)
	for _, h := range spec.Honeytokens {
		p.honeytokens[h] = true
	}
	return p, nil
}

func (p *Policy) knownPurpose(name string) bool {
	_, ok := p.purposes[name]
	return ok
}

// Declared reports whether purpose is one the policy names; with no
// purposes declared, every purpose counts as declared.
func (p *Policy) Declared(purpose string) bool {
	return p.purposes == nil || p.knownPurpose(purpose)
}

// RequiresConsent reports whether purpose needs a live consent.
func (p *Policy) RequiresConsent(purpose string) bool {
	return p.purposes[purpose].RequiresConsent
}

// Honeytokens returns the configured canaries, as configured: callers that
// know the token formats match them by what they name.
func (p *Policy) Honeytokens() []Honeytoken {
	out := make([]Honeytoken, 0, len(p.honeytokens))
	for h := range p.honeytokens {
		out = append(out, h)
	}
	return out
}

// Decide answers r. The most specific matching grant wins: an exact class
// beats the wildcard, then an exact identity beats a pattern, then the
// longer pattern wins; among equally specific grants the most restrictive
// wins, so a policy never opens more than its author could have meant.
func (p *Policy) Decide(r Request) Decision {
	if p.purposes != nil && !p.knownPurpose(r.Purpose) {
		return Decision{Deny, UnknownPurpose}
	}
	i := p.bestGrant(r)
	var best Grant
	if i >= 0 {
		best = p.grants[i]
	}
	switch {
	case i < 0:
		return Decision{Deny, NoGrant}
	case best.Reveal == Deny:
		return Decision{Deny, DeniedByGrant}
	case p.RequiresConsent(r.Purpose) && !r.Consent:
		return Decision{Deny, ConsentRequired}
	}
	return Decision{best.Reveal, Granted}
}

// Limits returns every quota limit that applies to identity and purpose.
func (p *Policy) Limits(identity, purpose string) []Limit {
	var out []Limit
	for _, q := range p.quotas {
		if q.Purpose == purpose && matches(q.Identity, identity) {
			out = append(out, q.Limits...)
		}
	}
	return out
}

func matches(pattern, identity string) bool {
	if pattern == identity {
		return true
	}
	ok, _ := path.Match(pattern, identity)
	return ok
}

func isPattern(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			return true
		}
	}
	return false
}

// specificity orders grants: exact class, exact identity, pattern length.
func specificity(g Grant) [3]int {
	s := [3]int{0, 0, len(g.Identity)}
	if g.Class != Wildcard {
		s[0] = 1
	}
	if !isPattern(g.Identity) {
		s[1] = 1
	}
	return s
}

func moreSpecific(a, b Grant) bool {
	sa, sb := specificity(a), specificity(b)
	for i := range sa {
		if sa[i] != sb[i] {
			return sa[i] > sb[i]
		}
	}
	return false
}

func sameSpecificity(a, b Grant) bool { return specificity(a) == specificity(b) }
