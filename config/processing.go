package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// ProcessingRecord is the GDPR Article 30 record of processing activities
// that a configuration implies: what personal data is held, for which
// purposes on which lawful basis, who receives it at which level, how
// long it is kept and how it is protected.
type ProcessingRecord struct {
	Categories []DataCategory `json:"categories"`
	Purposes   []Processing   `json:"purposes"`
	Safeguards Safeguards     `json:"safeguards"`
}

// DataCategory is one class of personal data.
type DataCategory struct {
	Class       string `json:"class"`
	Description string `json:"description"`
	Mode        string `json:"mode"`
	Protection  string `json:"protection"`
	Retention   string `json:"retention"`
	Binary      bool   `json:"binary"`
}

// Processing is one purpose with its basis and recipients.
type Processing struct {
	Purpose         string      `json:"purpose"`
	Description     string      `json:"description"`
	LawfulBasis     string      `json:"lawfulBasis"`
	RequiresConsent bool        `json:"requiresConsent"`
	Recipients      []Recipient `json:"recipients"`
}

// Recipient is an identity (or identity pattern) granted a class for the
// purpose, at a reveal level.
type Recipient struct {
	Identity string `json:"identity"`
	Class    string `json:"class"`
	Reveal   string `json:"reveal"`
}

// Safeguards are the technical measures (GDPR Art. 32) the configuration
// turns on.
type Safeguards struct {
	KeyProvider       string   `json:"keyProvider"`
	EncryptionAtRest  string   `json:"encryptionAtRest"`
	Transport         string   `json:"transport"`
	Authentication    []string `json:"authentication"`
	Audit             string   `json:"audit"`
	RetentionPurge    string   `json:"retentionPurge"`
	Quotas            int      `json:"quotas"`
	Honeytokens       int      `json:"honeytokens"`
	SubjectManagers   []string `json:"subjectManagers"`
	AdminIdentities   []string `json:"adminIdentities"`
	Pseudonymisation  string   `json:"pseudonymisation"`
	ErasureMechanisms string   `json:"erasureMechanisms"`
}

// NotStated marks a field the configuration leaves empty.
const NotStated = "(not stated in the configuration)"

// Processing returns the record of processing activities for c.
func (c *Config) Processing() ProcessingRecord {
	var rec ProcessingRecord
	for _, cl := range c.Classes {
		mode, _ := tokenizer.ParseMode(cl.Mode)
		ret := "until erased (no retention limit)"
		if cl.Retention > 0 {
			ret = durationText(cl.Retention)
		}
		if !mode.Vaulted() {
			ret = "not stored (vaultless)"
		}
		rec.Categories = append(rec.Categories, DataCategory{Class: cl.Name, Description: orNotStated(cl.Description),
			Mode: cl.Mode, Protection: protection(mode, cl.Algorithm), Retention: ret, Binary: cl.Binary})
	}
	purposes := c.Policy.Purposes
	if len(purposes) == 0 {
		// Undeclared purposes: list those the grants name.
		for _, g := range c.Policy.Grants {
			if !slices.ContainsFunc(purposes, func(p Purpose) bool { return p.Name == g.Purpose }) {
				purposes = append(purposes, Purpose{Name: g.Purpose})
			}
		}
	}
	for _, p := range purposes {
		basis := p.LawfulBasis
		if basis == "" && p.RequiresConsent {
			basis = "consent"
		}
		pr := Processing{Purpose: p.Name, Description: orNotStated(p.Description), LawfulBasis: orNotStated(basis),
			RequiresConsent: p.RequiresConsent, Recipients: []Recipient{}}
		for _, g := range c.Policy.Grants {
			if g.Purpose != p.Name {
				continue
			}
			r, _ := policy.ParseReveal(g.Reveal)
			pr.Recipients = append(pr.Recipients, Recipient{Identity: g.Identity, Class: g.Class, Reveal: r.String()})
		}
		rec.Purposes = append(rec.Purposes, pr)
	}
	rec.Safeguards = c.safeguards()
	return rec
}

func (c *Config) safeguards() Safeguards {
	s := Safeguards{
		EncryptionAtRest: "vaulted values: AES-256-GCM under per-class data keys (per-subject keys for values with a subject id), data keys wrapped by the key provider",
		Transport:        "gRPC without TLS: listen on loopback or a Unix socket (mode 0660) only",
		Audit:            fmt.Sprintf("hash-chained audit log of every call touching personal data, fsync'd, fail-closed; signed checkpoints every %d events", pick0(c.Audit.CheckpointEvery, 1000)),
		RetentionPurge:   "expired tokens stop resolving at once; deleted every " + durationText(c.Server.PurgeInterval),
		Quotas:           len(c.Policy.Quotas),
		Honeytokens:      len(c.Policy.Honeytokens),
		SubjectManagers:  append([]string{}, c.SubjectManagers...),
		AdminIdentities:  append([]string{}, c.Admins...),
		Pseudonymisation: "callers hold tokens, not values; reveal only for a declared purpose under a grant (plain, masked or redacted)",
		ErasureMechanisms: "subject erasure crypto-shreds the subject's keys (signed receipt); single values are deleted by token (signed receipt); " +
			"retention expiry",
	}
	switch c.Keys.Provider {
	case "vault":
		addr := c.Keys.Vault.Address
		if addr == "" {
			addr = "from VAULT_ADDR"
		}
		s.KeyProvider = fmt.Sprintf("HashiCorp Vault (%s): Transit key %s wraps data keys kept in KV v2", addr, pick(c.Keys.Vault.KEKName, "privacyvault-kek"))
	default:
		s.KeyProvider = "development key file under data_dir/devkeys (NOT for production)"
	}
	if c.Identity.MTLS != nil {
		s.Transport = "TLS with client certificates (mTLS)"
		s.Authentication = append(s.Authentication, "mTLS client certificate (SPIFFE ID)")
	}
	if c.Identity.JWT != nil {
		s.Authentication = append(s.Authentication, "signed JWT (issuer "+c.Identity.JWT.Issuer+")")
	}
	if len(c.Identity.UnixUIDs) > 0 {
		s.Authentication = append(s.Authentication, "Unix socket peer uid")
	}
	if len(c.Callers) > 0 {
		s.Authentication = append(s.Authentication, "static bearer tokens (--dev only)")
	}
	return s
}

func protection(m tokenizer.Mode, algorithm string) string {
	switch m {
	case tokenizer.Random:
		return "random token; value stored encrypted"
	case tokenizer.Deterministic:
		return "deterministic token (keyed HMAC index); value stored encrypted"
	case tokenizer.FPE:
		return "format-preserving encryption (" + strings.ToUpper(pick(algorithm, "ff1")) + ", AES-256); nothing stored"
	case tokenizer.Mask:
		return "irreversible mask; nothing stored"
	case tokenizer.Hash:
		return "irreversible keyed pseudonym (HMAC); nothing stored"
	}
	return string(m)
}

func durationText(d Duration) string {
	h := d.Std().Hours()
	if h >= 24 && h == float64(int(h/24))*24 {
		return fmt.Sprintf("%d days", int(h/24))
	}
	return d.Std().String()
}

func orNotStated(s string) string { return pick(s, NotStated) }

func pick0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Markdown renders the record for people.
func (r ProcessingRecord) Markdown() string {
	var b strings.Builder
	b.WriteString("# Record of processing activities (GDPR Art. 30)\n\nGenerated by `privacyvault report processing` from the configuration.\n\n")
	b.WriteString("## Categories of personal data\n\n| Class | Description | Protection | Retention |\n|---|---|---|---|\n")
	for _, c := range r.Categories {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Class, cell(c.Description), cell(c.Protection), c.Retention)
	}
	b.WriteString("\n## Purposes, lawful bases and recipients\n")
	for _, p := range r.Purposes {
		fmt.Fprintf(&b, "\n### %s\n\n- Description: %s\n- Lawful basis (Art. 6(1)): %s\n- Requires the subject's consent: %v\n- Recipients:\n", p.Purpose, p.Description, p.LawfulBasis, yesNo(p.RequiresConsent))
		if len(p.Recipients) == 0 {
			b.WriteString("  - none (no grant)\n")
		}
		for _, rc := range p.Recipients {
			fmt.Fprintf(&b, "  - %s: class %s, %s\n", rc.Identity, rc.Class, rc.Reveal)
		}
	}
	s := r.Safeguards
	b.WriteString("\n## Technical and organisational measures (Art. 32)\n\n")
	fmt.Fprintf(&b, "- Key management: %s\n- Encryption at rest: %s\n- Transport: %s\n- Authentication: %s\n- Pseudonymisation: %s\n- Audit: %s\n- Retention: %s\n- Erasure: %s\n- Quotas: %d, honeytokens: %d\n- Subject managers: %s; admins: %s\n",
		s.KeyProvider, s.EncryptionAtRest, s.Transport, listOr(s.Authentication, "none configured"), s.Pseudonymisation, s.Audit, s.RetentionPurge, s.ErasureMechanisms,
		s.Quotas, s.Honeytokens, listOr(s.SubjectManagers, "none"), listOr(s.AdminIdentities, "none"))
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func listOr(l []string, none string) string {
	if len(l) == 0 {
		return none
	}
	return strings.Join(l, ", ")
}
