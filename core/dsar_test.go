package core_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// deleteFixture is a data plane with a receipt signer.
func deleteFixture(t *testing.T) (*core.Service, *memAuditor, *audit.Ed25519Signer) {
	t.Helper()
	st := tempStore(t)
	keys := tempKeys(t)
	_, priv, _ := ed25519.GenerateKey(nil)
	signer := audit.NewEd25519Signer(priv)
	a := &memAuditor{}
	svc, err := core.New(context.Background(), core.Config{
		Classes: []core.ClassSpec{{Name: "notes", Mode: tokenizer.Random}, {Name: "email", Mode: tokenizer.Deterministic}},
		Store:   st,
		Keys:    keys,
		Policy: mustPolicy(t, policy.Spec{
			Purposes: []policy.Purpose{{Name: "support"}, {Name: "marketing", RequiresConsent: true}},
			Grants:   []policy.Grant{{Identity: "desk", Purpose: "support", Class: "*", Reveal: policy.Plain}},
		}),
		Auditor:       a,
		Fingerprints:  testFingerprints{},
		Receipts:      signer,
		MaxValueBytes: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc, a, signer
}

// TestDeleteTokenAuditedFirst: with the audit log down nothing is
// deleted; then the deletion is audited, the token stops resolving, the
// deterministic index is freed, and the receipt verifies.
func TestDeleteTokenAuditedFirst(t *testing.T) {
	svc, a, signer := deleteFixture(t)
	ctx := context.Background()
	res, err := svc.Tokenize(ctx, "app", []core.TokenizeItem{{Class: "email", Value: []byte("ann@example.com")}})
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	tok := res[0].Token
	reveal := func() error {
		r, err := svc.Detokenize(ctx, "desk", "support", []core.DetokenizeItem{{Class: "email", Token: tok}})
		if err != nil {
			return err
		}
		return r[0].Err
	}
	a.fail = true
	if _, err := svc.DeleteToken(ctx, "dpo", "email", tok); !errors.Is(err, core.ErrAuditFailed) {
		t.Fatalf("DeleteToken(audit down) = %v, want ErrAuditFailed", err)
	}
	a.fail = false
	if err := reveal(); err != nil {
		t.Fatalf("after a refused delete, Detokenize = %v, want the value", err)
	}
	before := len(a.events)
	r, err := svc.DeleteToken(ctx, "dpo", "email", tok)
	if err != nil {
		t.Fatalf("DeleteToken() = %v", err)
	}
	if len(a.events) != before+2 {
		t.Fatalf("DeleteToken wrote %d audit events, want 2 (intent, outcome)", len(a.events)-before)
	}
	if ev := a.events[before]; ev.Op != "token.delete" || ev.Reason != core.ReasonIntent || ev.Class != "email" || len(ev.Tokens) != 1 || ev.Tokens[0] != r.TokenFP {
		t.Errorf("first delete audit event = %+v, want the token.delete intent with the token fingerprint", ev)
	}
	if ev := a.events[before+1]; ev.Op != "token.delete" || ev.Decision != "allow" || ev.Reason != "" || ev.Count != 1 {
		t.Errorf("second delete audit event = %+v, want the token.delete outcome, allow", ev)
	}
	if r.Kind != audit.ReceiptToken || r.Class != "email" || r.Records != 1 {
		t.Errorf("receipt = %+v, want kind token, class email, 1 record", r)
	}
	if err := audit.VerifyReceipt(r, audit.NewEd25519Verifier(signer.Public())); err != nil {
		t.Errorf("VerifyReceipt() = %v", err)
	}
	if err := reveal(); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("Detokenize(deleted) = %v, want ErrNotFound", err)
	}
	if again, err := svc.DeleteToken(ctx, "dpo", "email", tok); err != nil || again.TokenFP != r.TokenFP || !again.ErasedAt.Equal(r.ErasedAt) {
		t.Errorf("DeleteToken(again) = %+v, %v; want the first deletion's receipt", again, err)
	}
	again, err := svc.Tokenize(ctx, "app", []core.TokenizeItem{{Class: "email", Value: []byte("ann@example.com")}})
	if err != nil || again[0].Err != nil || again[0].Token == tok {
		t.Errorf("Tokenize(same value after delete) = %v, %v; want a new token (index freed)", again, err)
	}
}

func TestConsentPurposeChecked(t *testing.T) {
	svc, _, _ := deleteFixture(t)
	ctx := context.Background()
	tests := []struct {
		purpose string
		ok      bool
	}{{"marketing", true}, {"support", false}, {"markting", false}}
	for _, tt := range tests {
		_, err := svc.SetConsent(ctx, "dpo", "cust-1", tt.purpose, "consent", time.Time{})
		var inv *core.InvalidError
		if tt.ok != (err == nil) || (!tt.ok && !errors.As(err, &inv)) {
			t.Errorf("SetConsent(%s) = %v, want ok %v (else InvalidError)", tt.purpose, err, tt.ok)
		}
	}
}

// TestDeleteTokenOfSubject: a value tokenized with a subject is deleted
// alone; the receipt names the subject's fingerprint and the subject's
// other values stay.
func TestDeleteTokenOfSubject(t *testing.T) {
	svc, _, _ := deleteFixture(t)
	ctx := context.Background()
	res, err := svc.Tokenize(ctx, "app", []core.TokenizeItem{
		{Class: "notes", Value: []byte("first"), SubjectID: "cust-1"},
		{Class: "notes", Value: []byte("second"), SubjectID: "cust-1"},
	})
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatal(err, res)
	}
	r, err := svc.DeleteToken(ctx, "dpo", "notes", res[0].Token)
	if err != nil || r.Subject != (testFingerprints{}).Subject("cust-1") {
		t.Fatalf("DeleteToken(subject's value) = %+v, %v; want a receipt naming the subject fingerprint", r, err)
	}
	got, err := svc.Detokenize(ctx, "desk", "support", []core.DetokenizeItem{{Class: "notes", Token: res[0].Token}, {Class: "notes", Token: res[1].Token}})
	if err != nil || !errors.Is(got[0].Err, core.ErrNotFound) || got[1].Err != nil || string(got[1].Value) != "second" {
		t.Errorf("Detokenize after deleting one value = %+v, %v; want the first NotFound, the second intact", got, err)
	}
}

// respelledFingerprints spells token fingerprints anew and gives the old
// spelling (testFingerprints) as TokenV1, as audit.Fingerprinter does
// since fingerprints version 2.
type respelledFingerprints struct{ testFingerprints }

func (respelledFingerprints) Token(class, token string) string { return fp("t2", class, token) }
func (respelledFingerprints) TokenV1(class, token string) string {
	return testFingerprints{}.Token(class, token)
}

// TestDeleteTokenAgainAfterRespelling: a token deleted while fingerprints
// had their old spelling still returns its receipt when deleted again
// after the change, not "not found".
func TestDeleteTokenAgainAfterRespelling(t *testing.T) {
	st := tempStore(t)
	keys := tempKeys(t)
	_, priv, _ := ed25519.GenerateKey(nil)
	signer := audit.NewEd25519Signer(priv)
	open := func(fps core.Fingerprinter) *core.Service {
		svc, err := core.New(context.Background(), core.Config{
			Classes:       []core.ClassSpec{{Name: "notes", Mode: tokenizer.Random}},
			Store:         st,
			Keys:          keys,
			Policy:        mustPolicy(t, policy.Spec{Purposes: []policy.Purpose{{Name: "support"}}}),
			Auditor:       &memAuditor{},
			Fingerprints:  fps,
			Receipts:      signer,
			MaxValueBytes: 1024,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(svc.Close)
		return svc
	}
	ctx := context.Background()
	before := open(testFingerprints{})
	res, err := before.Tokenize(ctx, "app", []core.TokenizeItem{{Class: "notes", Value: []byte("a note")}})
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	r, err := before.DeleteToken(ctx, "dpo", "notes", res[0].Token)
	if err != nil {
		t.Fatalf("DeleteToken() = %v", err)
	}
	again, err := open(respelledFingerprints{}).DeleteToken(ctx, "dpo", "notes", res[0].Token)
	if err != nil || again.TokenFP != r.TokenFP || !again.ErasedAt.Equal(r.ErasedAt) {
		t.Errorf("DeleteToken(again, after respelling) = %+v, %v; want the first deletion's receipt", again, err)
	}
}
