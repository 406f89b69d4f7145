package policy_test

import (
	"slices"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/policy"
)

func mustNew(t *testing.T, spec policy.Spec) *policy.Policy {
	t.Helper()
	p, err := policy.New(spec)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return p
}

func TestDecide(t *testing.T) {
	p := mustNew(t, policy.Spec{
		Purposes: []policy.Purpose{{Name: "payment"}, {Name: "customer-support"}, {Name: "marketing", RequiresConsent: true}, {Name: "p"}},
		Grants: []policy.Grant{
			{Identity: "payments", Purpose: "payment", Class: "card_number", Reveal: policy.Plain},
			{Identity: "support", Purpose: "customer-support", Class: "card_number", Reveal: policy.Masked},
			{Identity: "support", Purpose: "customer-support", Class: policy.Wildcard, Reveal: policy.Redacted},
			{Identity: "support", Purpose: "customer-support", Class: "ssn", Reveal: policy.Deny},
			{Identity: "dup", Purpose: "p", Class: "c", Reveal: policy.Plain},
			{Identity: "dup", Purpose: "p", Class: "c", Reveal: policy.Masked},
			{Identity: "spiffe://prod.example/ns/shop/*", Purpose: "payment", Class: "email", Reveal: policy.Masked},
			{Identity: "spiffe://prod.example/ns/shop/checkout", Purpose: "payment", Class: "email", Reveal: policy.Plain},
			{Identity: "crm", Purpose: "marketing", Class: "email", Reveal: policy.Plain},
		},
	})
	tests := []struct {
		req  policy.Request
		want policy.Decision
	}{
		{policy.Request{Identity: "payments", Purpose: "payment", Class: "card_number"}, policy.Decision{Reveal: policy.Plain, Reason: policy.Granted}},
		{policy.Request{Identity: "payments", Purpose: "marketing", Class: "card_number"}, policy.Decision{Reveal: policy.Deny, Reason: policy.NoGrant}},
		{policy.Request{Identity: "payments", Purpose: "payment", Class: "email"}, policy.Decision{Reveal: policy.Deny, Reason: policy.NoGrant}},
		{policy.Request{Identity: "payments", Purpose: "fun", Class: "card_number"}, policy.Decision{Reveal: policy.Deny, Reason: policy.UnknownPurpose}},
		{policy.Request{Identity: "support", Purpose: "customer-support", Class: "card_number"}, policy.Decision{Reveal: policy.Masked, Reason: policy.Granted}},
		{policy.Request{Identity: "support", Purpose: "customer-support", Class: "email"}, policy.Decision{Reveal: policy.Redacted, Reason: policy.Granted}},
		{policy.Request{Identity: "support", Purpose: "customer-support", Class: "ssn"}, policy.Decision{Reveal: policy.Deny, Reason: policy.DeniedByGrant}},
		{policy.Request{Identity: "stranger", Purpose: "payment", Class: "card_number"}, policy.Decision{Reveal: policy.Deny, Reason: policy.NoGrant}},
		{policy.Request{Identity: "dup", Purpose: "p", Class: "c"}, policy.Decision{Reveal: policy.Masked, Reason: policy.Granted}},
		{policy.Request{Identity: "spiffe://prod.example/ns/shop/cart", Purpose: "payment", Class: "email"}, policy.Decision{Reveal: policy.Masked, Reason: policy.Granted}},
		{policy.Request{Identity: "spiffe://prod.example/ns/shop/checkout", Purpose: "payment", Class: "email"}, policy.Decision{Reveal: policy.Plain, Reason: policy.Granted}},
		{policy.Request{Identity: "spiffe://prod.example/ns/shop/a/b", Purpose: "payment", Class: "email"}, policy.Decision{Reveal: policy.Deny, Reason: policy.NoGrant}},
		{policy.Request{Identity: "spiffe://evil.example/ns/shop/cart", Purpose: "payment", Class: "email"}, policy.Decision{Reveal: policy.Deny, Reason: policy.NoGrant}},
		{policy.Request{Identity: "crm", Purpose: "marketing", Class: "email", Consent: true}, policy.Decision{Reveal: policy.Plain, Reason: policy.Granted}},
		{policy.Request{Identity: "crm", Purpose: "marketing", Class: "email", Consent: false}, policy.Decision{Reveal: policy.Deny, Reason: policy.ConsentRequired}},
	}
	for _, tt := range tests {
		if got := p.Decide(tt.req); got != tt.want {
			t.Errorf("Decide(%+v) = %+v, want %+v", tt.req, got, tt.want)
		}
	}
}

func TestNoPurposesDeclaredAcceptsAny(t *testing.T) {
	p := mustNew(t, policy.Spec{Grants: []policy.Grant{{Identity: "a", Purpose: "anything", Class: "c", Reveal: policy.Plain}}})
	if got := p.Decide(policy.Request{Identity: "a", Purpose: "anything", Class: "c"}); got.Reveal != policy.Plain {
		t.Errorf("Decide(undeclared purposes) = %+v, want plain", got)
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		spec policy.Spec
	}{
		{"bad pattern", policy.Spec{Grants: []policy.Grant{{Identity: "[", Purpose: "p", Class: "c"}}}},
		{"undeclared purpose", policy.Spec{Purposes: []policy.Purpose{{Name: "a"}}, Grants: []policy.Grant{{Identity: "x", Purpose: "b", Class: "c"}}}},
		{"zero window", policy.Spec{Quotas: []policy.Quota{{Identity: "x", Purpose: "p", Limits: []policy.Limit{{Per: 0, Max: 1}}}}}},
		{"zero max", policy.Spec{Quotas: []policy.Quota{{Identity: "x", Purpose: "p", Limits: []policy.Limit{{Per: time.Second, Max: 0}}}}}},
	}
	for _, tt := range tests {
		if _, err := policy.New(tt.spec); err == nil {
			t.Errorf("New(%s) error = nil, want an error", tt.name)
		}
	}
}

func TestLimitsAndHoneytokens(t *testing.T) {
	p := mustNew(t, policy.Spec{
		Quotas: []policy.Quota{
			{Identity: "support*", Purpose: "customer-support", Limits: []policy.Limit{{Per: time.Second, Max: 50}, {Per: 24 * time.Hour, Max: 10000}}},
		},
		Honeytokens: []policy.Honeytoken{{Class: "card_number", Token: "pvt_canary"}},
	})
	if got := p.Limits("support-eu", "customer-support"); len(got) != 2 {
		t.Errorf("Limits(support-eu) = %v, want 2 limits", got)
	}
	if got := p.Limits("support-eu", "payment"); len(got) != 0 {
		t.Errorf("Limits(other purpose) = %v, want none", got)
	}
	want := []policy.Honeytoken{{Class: "card_number", Token: "pvt_canary"}}
	if got := p.Honeytokens(); !slices.Equal(got, want) {
		t.Errorf("Honeytokens() = %v, want %v", got, want)
	}
}

func TestParseReveal(t *testing.T) {
	tests := []struct {
		in      string
		want    policy.Reveal
		wantErr bool
	}{
		{"plain", policy.Plain, false},
		{"masked", policy.Masked, false},
		{"redacted", policy.Redacted, false},
		{"deny", policy.Deny, false},
		{"PLAIN", policy.Deny, true},
		{"", policy.Deny, true},
	}
	for _, tt := range tests {
		got, err := policy.ParseReveal(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseReveal(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
