package core

import (
	"strings"
	"sync/atomic"
	"unicode"

	"github.com/privacyvault/privacyvault/policy"
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
func (s *base) tokenFP(className, token string, canonical bool) string {
	sl, ok := s.classes[className]
	if !ok {
		return s.fp.Token(className, token)
	}
	if c := sl.load(); !canonical || !c.Mode.Vaulted() {
		token = tokenName(c, token)
	}
	return s.fp.Token(className, token)
}

// honeySet is the honeytokens of one policy: class → names.
type honeySet struct {
	pol   *policy.Policy
	names map[string]map[string]bool
}

// honeytokens holds the honeySet of the latest policy it was asked about.
type honeytokens struct{ cur atomic.Pointer[honeySet] }

// isHoneytoken reports whether token names one of pol's honeytokens of
// class c, under any spelling.
func (s *DataPlane) isHoneytoken(pol *policy.Policy, c *class, token string) bool {
	hs := s.honey.cur.Load()
	if hs == nil || hs.pol != pol {
		hs = &honeySet{pol: pol, names: map[string]map[string]bool{}}
		for _, h := range pol.Honeytokens() {
			if sl, ok := s.classes[h.Class]; ok {
				if hs.names[h.Class] == nil {
					hs.names[h.Class] = map[string]bool{}
				}
				hs.names[h.Class][tokenName(sl.load(), h.Token)] = true
			}
		}
		s.honey.cur.Store(hs)
	}
	names := hs.names[c.Name]
	return len(names) > 0 && names[tokenName(c, token)]
}
