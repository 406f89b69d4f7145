package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/tokenizer"
)

type fixture struct {
	svc   *core.Service
	audit *memAuditor
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	st := tempStore(t)
	keys := tempKeys(t)
	a := &memAuditor{}
	svc, err := core.New(context.Background(), core.Config{
		Classes: []core.ClassSpec{{Name: "email", Mode: tokenizer.Deterministic}, {Name: "card", Mode: tokenizer.Random}},
		Store:   st,
		Keys:    keys,
		Policy: mustPolicy(t, policy.Spec{
			Purposes: []policy.Purpose{{Name: "support"}, {Name: "marketing", RequiresConsent: true}},
			Grants: []policy.Grant{
				{Identity: "crm", Purpose: "marketing", Class: "email", Reveal: policy.Plain},
				{Identity: "desk", Purpose: "support", Class: "*", Reveal: policy.Masked},
			},
			Quotas:      []policy.Quota{{Identity: "desk", Purpose: "support", Limits: []policy.Limit{{Per: time.Hour, Max: 3}}}},
			Honeytokens: []policy.Honeytoken{{Class: "card", Token: "pvt_canary"}},
		}),
		Auditor:       a,
		Fingerprints:  testFingerprints{},
		MaxValueBytes: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return fixture{svc: svc, audit: a}
}

func (f fixture) tokenize(t *testing.T, class, value, subject string) string {
	t.Helper()
	res, err := f.svc.Tokenize(context.Background(), "app", []core.TokenizeItem{{Class: class, Value: []byte(value), SubjectID: subject}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Tokenize(%s) = %v, %v", class, res, err)
	}
	return res[0].Token
}

func (f fixture) detokenize(caller, purpose, class, token string) error {
	res, err := f.svc.Detokenize(context.Background(), caller, purpose, []core.DetokenizeItem{{Class: class, Token: token}})
	if err != nil {
		return err
	}
	return res[0].Err
}

func TestConsentLifecycle(t *testing.T) {
	f := newFixture(t)
	tok := f.tokenize(t, "email", "alice@example.com", "customer-1")
	noSubject := f.tokenize(t, "email", "bob@example.com", "")
	ctx := context.Background()
	if err := f.detokenize("crm", "marketing", "email", tok); !errors.Is(err, core.ErrNoConsent) {
		t.Errorf("Detokenize(no consent yet) = %v, want ErrNoConsent", err)
	}
	if _, err := f.svc.SetConsent(ctx, "dpo", "customer-1", "marketing", "consent", time.Time{}); err != nil {
		t.Fatalf("SetConsent() error = %v", err)
	}
	if err := f.detokenize("crm", "marketing", "email", tok); err != nil {
		t.Errorf("Detokenize(live consent) = %v, want nil", err)
	}
	if err := f.detokenize("crm", "marketing", "email", noSubject); !errors.Is(err, core.ErrNoConsent) {
		t.Errorf("Detokenize(token without subject) = %v, want ErrNoConsent", err)
	}
	if _, err := f.svc.RevokeConsent(ctx, "dpo", "customer-1", "marketing"); err != nil {
		t.Fatalf("RevokeConsent() error = %v", err)
	}
	if err := f.detokenize("crm", "marketing", "email", tok); !errors.Is(err, core.ErrNoConsent) {
		t.Errorf("Detokenize(after revoke) = %v, want ErrNoConsent", err)
	}
	list, err := f.svc.ListConsents(ctx, "dpo", "customer-1")
	if err != nil || len(list) != 1 || list[0].Live || list[0].RevokedAt.IsZero() {
		t.Errorf("ListConsents() = %+v, %v; want one revoked consent", list, err)
	}
	if _, err := f.svc.RevokeConsent(ctx, "dpo", "customer-2", "marketing"); !errors.Is(err, core.ErrNoConsentRecord) {
		t.Errorf("RevokeConsent(no record) = %v, want ErrNoConsentRecord", err)
	}
	if _, err := f.svc.SetConsent(ctx, "dpo", "customer-1", "marketing", "because", time.Time{}); err == nil {
		t.Error("SetConsent(bad lawful basis) error = nil, want InvalidError")
	}
}

func TestQuotaHoneytokenAndBurstAlerts(t *testing.T) {
	f := newFixture(t)
	tok := f.tokenize(t, "card", "4111111111111111", "")
	for i := range 3 {
		if err := f.detokenize("desk", "support", "card", tok); err != nil {
			t.Fatalf("Detokenize %d within quota = %v", i, err)
		}
	}
	var qe *core.QuotaError
	if err := f.detokenize("desk", "support", "card", tok); !errors.As(err, &qe) {
		t.Errorf("Detokenize over quota = %v, want *QuotaError", err)
	}
	if err := f.detokenize("crm", "marketing", "card", "pvt_canary"); !errors.Is(err, core.ErrDenied) {
		t.Errorf("Detokenize(honeytoken) = %v, want ErrDenied", err)
	}
	for range 25 {
		f.detokenize("intruder", "support", "card", tok)
	}
	alerts := map[audit.Alert]int{}
	for _, e := range f.audit.events {
		if e.Alert != "" {
			alerts[e.Alert]++
		}
	}
	if alerts[audit.AlertQuota] != 1 || alerts[audit.AlertHoneytoken] != 1 || alerts[audit.AlertDeniedBurst] != 1 {
		t.Errorf("alert events = %v, want one quota, one honeytoken, one denied_burst", alerts)
	}
}

func TestAuditFailClosed(t *testing.T) {
	f := newFixture(t)
	tok := f.tokenize(t, "card", "4111111111111111", "")
	f.audit.fail = true
	res, err := f.svc.Detokenize(context.Background(), "desk", "support", []core.DetokenizeItem{{Class: "card", Token: tok}})
	if !errors.Is(err, core.ErrAuditFailed) || res != nil {
		t.Errorf("Detokenize with audit down = %v, %v; want no values and ErrAuditFailed", res, err)
	}
	if _, err := f.svc.Tokenize(context.Background(), "app", []core.TokenizeItem{{Class: "card", Value: []byte("x")}}); !errors.Is(err, core.ErrAuditFailed) {
		t.Errorf("Tokenize with audit down = %v, want ErrAuditFailed", err)
	}
}

func TestAuditEventsHoldNoValuesOrTokens(t *testing.T) {
	f := newFixture(t)
	tok := f.tokenize(t, "card", "4111111111111111", "customer-9")
	f.detokenize("desk", "support", "card", tok)
	if len(f.audit.events) != 2 {
		t.Fatalf("audit events = %d, want 2 (tokenize, detokenize)", len(f.audit.events))
	}
	for _, e := range f.audit.events {
		all := strings.Join(append(e.Tokens, e.Caller, e.Purpose, string(e.Op), e.Class, e.Subject, e.Reason), "|")
		if strings.Contains(all, "4111111111111111") || strings.Contains(all, tok) || strings.Contains(all, "customer-9") {
			t.Errorf("audit event %+v holds a value, token or subject id", e)
		}
		if e.Subject != (testFingerprints{}).Subject("customer-9") || len(e.Tokens) != 1 {
			t.Errorf("audit event %+v: want the subject fingerprint and one token fingerprint", e)
		}
	}
	if d := f.audit.events[1]; d.Op != "detokenize" || d.Purpose != "support" || d.Decision != "allow" || d.Caller != "desk" {
		t.Errorf("detokenize event = %+v", d)
	}
}
