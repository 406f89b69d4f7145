// Package policy decides how much of a value a caller may see: a pure
// function of (identity, purpose, class) over a grant table, default deny.
package policy

import "fmt"

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

// Grant allows Identity to read Class for Purpose at level Reveal.
type Grant struct {
	Identity string
	Purpose  string
	Class    string // a class name or Wildcard
	Reveal   Reveal
}

// Policy is an immutable grant table.
type Policy struct {
	grants map[key]Reveal
}

type key struct{ identity, purpose, class string }

// New returns the policy of grants. When several grants match a request,
// the exact class beats the wildcard; an explicit deny for an exact class
// overrides a wildcard allow.
func New(grants []Grant) *Policy {
	p := &Policy{grants: make(map[key]Reveal, len(grants))}
	for _, g := range grants {
		k := key{g.Identity, g.Purpose, g.Class}
		// Two grants for one key keep the most restrictive: a policy file
		// should never open more than its author could have meant.
		if prev, ok := p.grants[k]; ok && prev < g.Reveal {
			continue
		}
		p.grants[k] = g.Reveal
	}
	return p
}

// Decide returns the reveal level for identity reading class for purpose.
// Anything not granted is Deny.
func (p *Policy) Decide(identity, purpose, class string) Reveal {
	if r, ok := p.grants[key{identity, purpose, class}]; ok {
		return r
	}
	return p.grants[key{identity, purpose, Wildcard}]
}
