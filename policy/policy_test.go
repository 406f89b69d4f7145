package policy_test

import (
	"testing"

	"github.com/privacyvault/privacyvault/policy"
)

func TestDecide(t *testing.T) {
	p := policy.New([]policy.Grant{
		{Identity: "payments", Purpose: "payment", Class: "card_number", Reveal: policy.Plain},
		{Identity: "support", Purpose: "customer-support", Class: "card_number", Reveal: policy.Masked},
		{Identity: "support", Purpose: "customer-support", Class: policy.Wildcard, Reveal: policy.Redacted},
		{Identity: "support", Purpose: "customer-support", Class: "ssn", Reveal: policy.Deny},
		{Identity: "dup", Purpose: "p", Class: "c", Reveal: policy.Plain},
		{Identity: "dup", Purpose: "p", Class: "c", Reveal: policy.Masked},
	})
	tests := []struct {
		identity, purpose, class string
		want                     policy.Reveal
	}{
		{"payments", "payment", "card_number", policy.Plain},
		{"payments", "marketing", "card_number", policy.Deny},
		{"payments", "payment", "email", policy.Deny},
		{"support", "customer-support", "card_number", policy.Masked},
		{"support", "customer-support", "email", policy.Redacted},
		{"support", "customer-support", "ssn", policy.Deny},
		{"stranger", "payment", "card_number", policy.Deny},
		{"", "", "", policy.Deny},
		{"dup", "p", "c", policy.Masked},
	}
	for _, tt := range tests {
		if got := p.Decide(tt.identity, tt.purpose, tt.class); got != tt.want {
			t.Errorf("Decide(%q, %q, %q) = %v, want %v", tt.identity, tt.purpose, tt.class, got, tt.want)
		}
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
