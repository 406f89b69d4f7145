package config

import (
	"fmt"
	"os"
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/privacyvault/privacyvault/policy"
)

// Policy is the hot-reloadable part of the configuration: purposes,
// grants, quotas and honeytokens. The server re-reads it from the file on
// change and on SIGHUP; a file that fails validation is rejected and the
// running policy stays.
type Policy struct {
	Purposes    []Purpose    `yaml:"purposes"`
	Grants      []Grant      `yaml:"grants"`
	Quotas      []Quota      `yaml:"quotas"`
	Honeytokens []Honeytoken `yaml:"honeytokens"`
}

// Purpose is a reason callers may state when they detokenize.
type Purpose struct {
	Name            string `yaml:"name"`
	RequiresConsent bool   `yaml:"requires_consent"`
	// Description says what the processing is for, in the words of the
	// record of processing activities (GDPR Art. 30).
	Description string `yaml:"description"`
	// LawfulBasis is the GDPR Art. 6(1) basis: consent, contract,
	// legal_obligation, vital_interests, public_task or
	// legitimate_interests. Purposes that require consent have basis
	// consent.
	LawfulBasis string `yaml:"lawful_basis"`
}

// LawfulBases are the GDPR Art. 6(1) bases a purpose may name.
var LawfulBases = []string{"consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"}

// Grant lets identities read a class for a purpose at a reveal level.
type Grant struct {
	// Identity is exact or a pattern ("spiffe://prod.example/ns/shop/*").
	Identity string `yaml:"identity"`
	Purpose  string `yaml:"purpose"`
	Class    string `yaml:"class"`
	Reveal   string `yaml:"reveal"`
}

// Quota limits how many items identities may detokenize for a purpose.
type Quota struct {
	Identity string  `yaml:"identity"`
	Purpose  string  `yaml:"purpose"`
	Limits   []Limit `yaml:"limits"`
}

// Limit is at most Max items per Per.
type Limit struct {
	Per Duration `yaml:"per"`
	Max int      `yaml:"max"`
}

// Honeytoken is a canary token whose detokenization raises an alert.
type Honeytoken struct {
	Class string `yaml:"class"`
	Token string `yaml:"token"`
}

func (c *Config) validatePolicy(v *validator, classes map[string]bool) {
	purposes := map[string]bool{}
	for i, p := range c.Policy.Purposes {
		at := []any{"policy", "purposes", i, "name"}
		switch {
		case !namePattern.MatchString(p.Name):
			v.fail("must match "+namePattern.String(), at...)
		case purposes[p.Name]:
			v.fail(fmt.Sprintf("duplicate purpose %q", p.Name), at...)
		}
		purposes[p.Name] = true
		basis := []any{"policy", "purposes", i, "lawful_basis"}
		switch {
		case p.LawfulBasis != "" && !slices.Contains(LawfulBases, p.LawfulBasis):
			v.fail(fmt.Sprintf("unknown lawful basis %q (want one of %s)", p.LawfulBasis, strings.Join(LawfulBases, ", ")), basis...)
		case p.RequiresConsent && p.LawfulBasis != "" && p.LawfulBasis != "consent":
			v.fail(fmt.Sprintf("a purpose that requires consent has lawful basis consent, not %q", p.LawfulBasis), basis...)
		}
	}
	declared := len(c.Policy.Purposes) > 0
	for i, g := range c.Policy.Grants {
		at := []any{"policy", "grants", i}
		if _, err := path.Match(g.Identity, ""); g.Identity == "" || err != nil {
			v.fail("bad pattern or empty (exact identity, or path.Match syntax)", append(at, "identity")...)
		}
		if declared && !purposes[g.Purpose] {
			v.fail(fmt.Sprintf("purpose %q is not declared under policy.purposes", g.Purpose), append(at, "purpose")...)
		}
		if !declared && !namePattern.MatchString(g.Purpose) {
			v.fail("must match "+namePattern.String(), append(at, "purpose")...)
		}
		if g.Class != policy.Wildcard && !classes[g.Class] {
			v.fail(fmt.Sprintf("unknown class %q", g.Class), append(at, "class")...)
		}
		if _, err := policy.ParseReveal(g.Reveal); err != nil {
			v.fail(err.Error(), append(at, "reveal")...)
		}
	}
	for i, q := range c.Policy.Quotas {
		at := []any{"policy", "quotas", i}
		if declared && !purposes[q.Purpose] {
			v.fail(fmt.Sprintf("purpose %q is not declared under policy.purposes", q.Purpose), append(at, "purpose")...)
		}
		if len(q.Limits) == 0 {
			v.fail("at least one limit is required", append(at, "limits")...)
		}
		for j, l := range q.Limits {
			if l.Per <= 0 || l.Max <= 0 {
				v.fail("per and max must be positive", append(at, "limits", j)...)
			}
		}
	}
	for i, h := range c.Policy.Honeytokens {
		at := []any{"policy", "honeytokens", i}
		if !classes[h.Class] {
			v.fail(fmt.Sprintf("unknown class %q", h.Class), append(at, "class")...)
		}
		if h.Token == "" {
			v.fail("is required", append(at, "token")...)
		}
	}
	if len(v.errs) == 0 {
		if _, err := c.BuildPolicy(); err != nil {
			v.fail(err.Error(), "policy")
		}
	}
}

// BuildPolicy returns the policy section as a policy.Policy.
func (c *Config) BuildPolicy() (*policy.Policy, error) {
	var spec policy.Spec
	for _, p := range c.Policy.Purposes {
		spec.Purposes = append(spec.Purposes, policy.Purpose{Name: p.Name, RequiresConsent: p.RequiresConsent})
	}
	for _, g := range c.Policy.Grants {
		r, err := policy.ParseReveal(g.Reveal)
		if err != nil {
			return nil, err
		}
		spec.Grants = append(spec.Grants, policy.Grant{Identity: g.Identity, Purpose: g.Purpose, Class: g.Class, Reveal: r})
	}
	for _, q := range c.Policy.Quotas {
		pq := policy.Quota{Identity: q.Identity, Purpose: q.Purpose}
		for _, l := range q.Limits {
			pq.Limits = append(pq.Limits, policy.Limit{Per: l.Per.Std(), Max: l.Max})
		}
		spec.Quotas = append(spec.Quotas, pq)
	}
	for _, h := range c.Policy.Honeytokens {
		spec.Honeytokens = append(spec.Honeytokens, policy.Honeytoken{Class: h.Class, Token: h.Token})
	}
	return policy.New(spec)
}

// LoadPolicy re-reads path for a policy reload. The whole file is
// validated as at start-up, so a reload never installs a policy that a
// restart would reject; sections other than policy are not applied
// (classes, listeners and keys need a restart), and changes to them are
// reported in changed.
func LoadPolicy(path string, running *Config) (p *policy.Policy, changed []string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(path, b)
	if err != nil {
		return nil, nil, err
	}
	if p, err = c.BuildPolicy(); err != nil {
		return nil, nil, err
	}
	if c.Server.MaxBatch != running.Server.MaxBatch || c.Server.MaxValueBytes != running.Server.MaxValueBytes {
		changed = append(changed, "server")
	}
	if !reflect.DeepEqual(c.Keys, running.Keys) {
		changed = append(changed, "keys")
	}
	// DeepEqual, not Sprint: formats are pointers, whose printed addresses
	// differ on every load.
	if !reflect.DeepEqual(c.Classes, running.Classes) {
		changed = append(changed, "classes")
	}
	if !slices.Equal(c.Admins, running.Admins) || !reflect.DeepEqual(c.Callers, running.Callers) {
		changed = append(changed, "callers/admins")
	}
	return p, changed, nil
}
