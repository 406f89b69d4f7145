package core

import (
	"strings"
	"unicode"

	"github.com/privacyvault/privacyvault/audit"
)

// tokenName is what a token of class c names, the same for every spelling
// of it: the canonical token for a vaulted token (whatever the case or the
// last character's unused bits), and for other tokens their letters and
// digits, lower-cased, so separators and case do not make another name.
// Honeytokens are matched and audit fingerprints taken over this name.
// A string that is no valid vaulted token names itself.
func tokenName(c *class, token string) string {
	if c.Mode.Vaulted() {
		if canon, ok := c.codec.Canonical(token); ok {
			return canon
		}
		return token
	}
	if lowerAlnum(token) {
		return token // already its name: the usual fpe token of digits
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, token)
}

// tokenFP is the audit fingerprint of a token of the named class. Tokens
// of unknown classes are fingerprinted as given, and so are vaulted tokens
// known to be canonical (issued or decoded by this call), which saves
// re-checking their tag.
func (s *trail) tokenFP(className, token string, canonical bool) string {
	return s.fp.Token(className, s.fpName(className, token, canonical))
}

// fpSlots spells the token fingerprints of one call in one allocation
// when the Fingerprinter can (audit.Fingerprinter.TokenSet), one by one
// otherwise.
type fpSlots struct {
	set audit.TokenSet
	fp  Fingerprinter // nil when set spells them
}

// tokenSetter is a Fingerprinter with audit.Fingerprinter's TokenSet.
type tokenSetter interface {
	TokenSet(n int) audit.TokenSet
}

// fpSlots returns slots for the fingerprints of n tokens: one buffer for
// a large call, a string each for a small one (whose slots might
// otherwise go unused: a unary fpe call fingerprints in auditTokens).
func (s *trail) fpSlots(n int) fpSlots {
	if ts, ok := s.fp.(tokenSetter); ok && n >= 2*minChunk {
		return fpSlots{set: ts.TokenSet(n)}
	}
	return fpSlots{fp: s.fp}
}

// tokenFPIn is tokenFP spelled in slot i of slots; each slot is filled at
// most once.
func (s *trail) tokenFPIn(slots fpSlots, i int, className, token string, canonical bool) string {
	return slots.token(i, className, s.fpName(className, token, canonical))
}

// token fingerprints name, a token's fpName, in slot i.
func (slots fpSlots) token(i int, className, name string) string {
	if slots.fp != nil {
		return slots.fp.Token(className, name)
	}
	return slots.set.Token(i, className, name)
}

// fpName is the name tokenFP fingerprints.
func (s *trail) fpName(className, token string, canonical bool) string {
	sl, ok := s.reg.classes[className]
	if !ok {
		return token
	}
	return fpNameOf(sl.load(), token, canonical)
}

// fpNameOf is fpName for a token of class c.
func fpNameOf(c *class, token string, canonical bool) string {
	if !canonical || !c.Mode.Vaulted() {
		return tokenName(c, token)
	}
	return token
}

// lowerAlnum reports whether s is only ASCII digits and lower-case letters.
func lowerAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}
