package server_test

import (
	"context"
	"net/mail"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
)

func luhnValid(digits string) bool {
	sum := 0
	for i := range len(digits) {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// TestFPECardEndToEnd is the acceptance check: a card number
// tokenized through the API is a Luhn-valid 16-digit value keeping BIN-6
// and last-4, and detokenizes to the original for a granted purpose and
// masked for a masked grant.
func TestFPECardEndToEnd(t *testing.T) {
	h := start(t)
	c := h.Client(checkout)
	cards := []string{"4111111111111111", "5500005555555559", "4000056655665556", "6011000990139424"}
	for _, card := range cards {
		tok := tokenize(t, c, "card_fpe", card)
		if len(tok) != 16 || !allDigits(tok) || !luhnValid(tok) {
			t.Errorf("Tokenize(card_fpe) = %q, want 16 Luhn-valid digits", tok)
		}
		if tok[:6] != card[:6] || tok[12:] != card[12:] {
			t.Errorf("Tokenize(card_fpe) = %q, want BIN %s and last-4 %s kept", tok, card[:6], card[12:])
		}
		if tok == card {
			t.Errorf("Tokenize(card_fpe) returned the card itself")
		}
		if again := tokenize(t, c, "card_fpe", card); again != tok {
			t.Errorf("Tokenize(card_fpe) twice = %q, %q; want equal (FPE is deterministic)", tok, again)
		}
		got, err := c.Detokenize(context.Background(), "payment", "card_fpe", tok)
		if err != nil || string(got.Value) != card || got.Level != client.Plain {
			t.Errorf("Detokenize(card_fpe token) = %q %v, %v; want %q plain", got.Value, got.Level, err, card)
		}
		masked, err := h.Client(support).Detokenize(context.Background(), "customer-support", "card_fpe", tok)
		want := card[:6] + "******" + card[12:]
		if err != nil || string(masked.Value) != want || masked.Level != client.Masked {
			t.Errorf("Detokenize(card_fpe, masked grant) = %q %v, %v; want %q masked", masked.Value, masked.Level, err, want)
		}
	}
	// Separators stay in place.
	tok := tokenize(t, c, "card_fpe", "4111-1111-1111-1111")
	if len(tok) != 19 || tok[4] != '-' || tok[9] != '-' || tok[14] != '-' || !strings.HasPrefix(tok, "4111-11") || !strings.HasSuffix(tok, "-1111") {
		t.Errorf("Tokenize(card_fpe, dashed) = %q, want dashes in place and BIN/last-4 kept", tok)
	}
}

func TestFPEDigitsAndContext(t *testing.T) {
	h := start(t)
	c := h.Client(checkout)
	const acct = "0012-3456-7890"
	plain := tokenize(t, c, "account_number", acct)
	if len(plain) != len(acct) || plain[4] != '-' || plain[9] != '-' || plain == acct {
		t.Errorf("Tokenize(account_number) = %q, want a different value shaped like %q", plain, acct)
	}
	res, err := c.TokenizeBatch(context.Background(), []client.TokenizeItem{{Class: "account_number", Value: []byte(acct), Context: "tenant-42"}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Tokenize(with context) = %v, %v", err, res[0].Err)
	}
	withCtx := res[0].Token
	if withCtx == plain {
		t.Errorf("Tokenize(with context) = %q, same as without; want the context to change the token", withCtx)
	}
	back, err := c.DetokenizeBatch(context.Background(), "payment", []client.DetokenizeItem{
		{Class: "account_number", Token: withCtx, Context: "tenant-42"},
		{Class: "account_number", Token: plain},
	})
	if err != nil || string(back[0].Value) != acct || string(back[1].Value) != acct {
		t.Errorf("Detokenize(with and without context) = %q, %q, %v; want %q twice", back[0].Value, back[1].Value, err, acct)
	}
}

func TestFF31Compatibility(t *testing.T) {
	h := start(t)
	c := h.Client(checkout)
	tweak := []byte{0xd8, 0xe7, 0x92, 0x0a, 0xfa, 0x33, 0x0a}
	res, err := c.TokenizeBatch(context.Background(), []client.TokenizeItem{
		{Class: "legacy_account", Value: []byte("890121234567890000"), Tweak: tweak},
		{Class: "legacy_account", Value: []byte("890121234567890000")},
		{Class: "legacy_account", Value: []byte("890121234567890000"), Tweak: tweak[:6]},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || len(res[0].Token) != 18 || !allDigits(res[0].Token) {
		t.Errorf("Tokenize(ff3-1, 7-byte tweak) = %q, %v; want 18 digits", res[0].Token, res[0].Err)
	}
	for i := 1; i < 3; i++ {
		if status.Code(res[i].Err) != codes.InvalidArgument || fieldViolation(res[i].Err) != "items["+string(rune('0'+i))+"].tweak" {
			t.Errorf("Tokenize(ff3-1, bad tweak %d) = %v, field %q; want InvalidArgument on tweak", i, res[i].Err, fieldViolation(res[i].Err))
		}
	}
	got, err := c.DetokenizeBatch(context.Background(), "payment", []client.DetokenizeItem{{Class: "legacy_account", Token: res[0].Token, Tweak: tweak}})
	if err != nil || string(got[0].Value) != "890121234567890000" {
		t.Errorf("Detokenize(ff3-1) = %q, %v; want the original", got[0].Value, err)
	}
}

func TestMaskAndHashModes(t *testing.T) {
	h := start(t)
	c := h.Client(checkout)
	if got := tokenize(t, c, "card_last4", "4111 1111 1111 1111"); got != "**** **** **** 1111" {
		t.Errorf("Tokenize(card_last4) = %q, want %q", got, "**** **** **** 1111")
	}
	p1 := tokenize(t, c, "email_pseudonym", "Alice.Smith@example.com")
	p2 := tokenize(t, c, "email_pseudonym", "Alice.Smith@example.com")
	if p1 != p2 || p1 == "Alice.Smith@example.com" || !strings.HasSuffix(p1, "@example.com") {
		t.Errorf("Tokenize(email_pseudonym) = %q, %q; want one stable pseudonym at example.com", p1, p2)
	}
	if _, err := mail.ParseAddress(p1); err != nil {
		t.Errorf("Tokenize(email_pseudonym) = %q, not a valid address: %v", p1, err)
	}
	for _, tt := range []struct{ class, token string }{{"card_last4", "**** **** **** 1111"}, {"email_pseudonym", p1}} {
		_, err := h.Client(support).Detokenize(context.Background(), "customer-support", tt.class, tt.token)
		if status.Code(err) != codes.InvalidArgument || fieldViolation(err) != "items[0].class" {
			t.Errorf("Detokenize(%s) = %v, want InvalidArgument on class (irreversible)", tt.class, err)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	h := start(t)
	c := h.Client(checkout)
	tests := []struct {
		name, class, value, field string
	}{
		{"card failing Luhn", "card_fpe", "4111111111111112", "items[0].value"},
		{"card too short", "card_fpe", "41111111111", "items[0].value"},
		{"digits domain too small", "account_number", "12345", "items[0].value"},
		{"vaulted card failing Luhn", "card_number", "4111111111111112", "items[0].value"},
		{"not an email", "email", "not-an-email", "items[0].value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Tokenize(context.Background(), tt.class, []byte(tt.value))
			if status.Code(err) != codes.InvalidArgument || fieldViolation(err) != tt.field {
				t.Errorf("Tokenize(%s) = %v, field %q; want InvalidArgument on %s", tt.name, err, fieldViolation(err), tt.field)
			}
			if err != nil && strings.Contains(err.Error(), tt.value) {
				t.Errorf("Tokenize(%s) error %q repeats the value", tt.name, err)
			}
		})
	}
	_, err := c.Detokenize(context.Background(), "payment", "card_fpe", "4111-abcd-1111-1111")
	if status.Code(err) != codes.InvalidArgument || fieldViolation(err) != "items[0].token" {
		t.Errorf("Detokenize(card_fpe, letters) = %v, want InvalidArgument on token", err)
	}
}
