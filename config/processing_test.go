package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/examples"
)

// TestProcessingRecord: the Art. 30 record of the sample configuration
// names every class with its retention, every purpose with its lawful
// basis, and as recipients exactly the grants for the purpose.
func TestProcessingRecord(t *testing.T) {
	c, err := config.Parse("examples/config.yaml", examples.Config)
	if err != nil {
		t.Fatal(err)
	}
	rec := c.Processing()
	if len(rec.Categories) != len(c.Classes) {
		t.Errorf("categories = %d, want %d (one per class)", len(rec.Categories), len(c.Classes))
	}
	cats := map[string]config.DataCategory{}
	for _, cat := range rec.Categories {
		cats[cat.Class] = cat
	}
	if got := cats["card_number"].Retention; got != "400 days" {
		t.Errorf("card_number retention = %q, want 400 days", got)
	}
	if got := cats["card_fpe"].Retention; got != "not stored (vaultless)" {
		t.Errorf("card_fpe retention = %q, want not stored", got)
	}
	if got := cats["email"].Description; got != "Customer e-mail address" {
		t.Errorf("email description = %q", got)
	}
	byName := map[string]config.Processing{}
	for _, p := range rec.Purposes {
		byName[p.Purpose] = p
	}
	m := byName["marketing"]
	if m.LawfulBasis != "consent" || !m.RequiresConsent || !slices.Equal(m.Recipients, []config.Recipient{{Identity: "checkout", Class: "email", Reveal: "plain"}}) {
		t.Errorf("marketing = %+v, want consent basis and checkout's plain email as the only recipient", m)
	}
	if got := byName["customer-support"].Recipients; len(got) != 2 || got[1] != (config.Recipient{Identity: "support", Class: "ssn", Reveal: "deny"}) {
		t.Errorf("customer-support recipients = %+v, want support's masked wildcard and ssn deny", got)
	}
	if !strings.Contains(rec.Safeguards.KeyProvider, "NOT for production") || rec.Safeguards.Honeytokens != 1 {
		t.Errorf("safeguards = %+v", rec.Safeguards)
	}
	md := rec.Markdown()
	for _, want := range []string{"| card_number | Payment card number (PAN), vaulted |", "### marketing", "Lawful basis (Art. 6(1)): consent", "  - checkout: class email, plain"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown() lacks %q:\n%s", want, md)
		}
	}
}
