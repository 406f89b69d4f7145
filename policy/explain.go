package policy

import (
	"fmt"
	"slices"
)

// bestGrant returns the index of the grant that decides r, or -1: the most
// specific match, and among equally specific ones the most restrictive.
func (p *Policy) bestGrant(r Request) int {
	best := -1
	for i, g := range p.grants {
		if g.Purpose != r.Purpose || (g.Class != r.Class && g.Class != Wildcard) || !matches(g.Identity, r.Identity) {
			continue
		}
		if best < 0 || moreSpecific(g, p.grants[best]) || (sameSpecificity(g, p.grants[best]) && g.Reveal < p.grants[best].Reveal) {
			best = i
		}
	}
	return best
}

// Explanation is a decision with what produced it.
type Explanation struct {
	Decision
	// GrantIndex is the deciding grant's position in the policy's grants,
	// or -1 when none matched (the default: deny).
	GrantIndex int
	// Grant is that grant.
	Grant Grant
	// RequiresConsent reports whether the purpose also needs a live
	// consent of the value's subject.
	RequiresConsent bool
}

// Explain answers r as Decide does (assuming consent is present, so the
// grant's level shows), and names the grant or default that decided.
func (p *Policy) Explain(r Request) Explanation {
	r.Consent = true
	e := Explanation{Decision: p.Decide(r), GrantIndex: -1, RequiresConsent: p.RequiresConsent(r.Purpose)}
	if e.Reason == UnknownPurpose {
		return e
	}
	if i := p.bestGrant(r); i >= 0 {
		e.GrantIndex, e.Grant = i, p.grants[i]
	}
	return e
}

// String describes the grant as "identity/purpose/class -> reveal".
func (g Grant) String() string {
	return fmt.Sprintf("%s/%s/%s -> %s", g.Identity, g.Purpose, g.Class, g.Reveal)
}

// Purposes returns the declared purposes, nil when any purpose is accepted.
func (p *Policy) Purposes() []string {
	if p.purposes == nil {
		return nil
	}
	out := make([]string, 0, len(p.purposes))
	for n := range p.purposes {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
