package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
)

func TestReceipt(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s := audit.NewEd25519Signer(priv)
	r, err := audit.SignReceipt(context.Background(), s, audit.Receipt{Subject: "0123456789abcdef0123456789abcdef", ErasedAt: time.Unix(1800000000, 0), Records: 3, Keys: 2, Consents: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.VerifyReceipt(r, s); err != nil {
		t.Errorf("VerifyReceipt(signed) = %v, want nil", err)
	}
	tampered := r
	tampered.Records = 2
	if err := audit.VerifyReceipt(tampered, s); err == nil {
		t.Error("VerifyReceipt(records changed) = nil, want an error")
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if err := audit.VerifyReceipt(r, audit.NewEd25519Signer(other)); err == nil {
		t.Error("VerifyReceipt(other key) = nil, want an error")
	}
}

// A receipt stating what remains signs that statement (v2): changing it,
// or dropping it to pass the receipt off as v1, breaks the signature, and
// the canonical JSON carries it.
func TestReceiptRemains(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s := audit.NewEd25519Signer(priv)
	r, err := audit.SignReceipt(context.Background(), s, audit.Receipt{Subject: "0123456789abcdef0123456789abcdef", ErasedAt: time.Unix(1800000000, 0),
		Records: 3, Keys: 1, Remains: "dead tuples until VACUUM\nrecords 9"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := audit.MarshalReceipt(r)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := audit.ParseReceipt(b)
	if err != nil {
		t.Fatalf("ParseReceipt(MarshalReceipt()) error = %v", err)
	}
	if parsed.Remains != r.Remains {
		t.Errorf("ParseReceipt(MarshalReceipt()).Remains = %q, want %q", parsed.Remains, r.Remains)
	}
	if err := audit.VerifyReceipt(parsed, s); err != nil {
		t.Errorf("VerifyReceipt(parsed) = %v, want nil", err)
	}
	tests := []struct {
		name   string
		change func(*audit.Receipt)
	}{
		{"statement changed", func(r *audit.Receipt) { r.Remains = "nothing remains" }},
		{"statement dropped", func(r *audit.Receipt) { r.Remains = "" }},
		{"count changed", func(r *audit.Receipt) { r.Records = 9 }},
	}
	for _, tt := range tests {
		bad := r
		tt.change(&bad)
		if err := audit.VerifyReceipt(bad, s); err == nil {
			t.Errorf("VerifyReceipt(%s) = nil, want a signature error", tt.name)
		}
	}
}

// Receipts signed before the statement was added (the v1 form, signed
// here by hand) still verify.
func TestReceiptV1StillVerifies(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s := audit.NewEd25519Signer(priv)
	msg := "privacyvault erasure receipt v1\nsubject 0123456789abcdef0123456789abcdef\nerased_at 2027-01-15T08:00:00Z\nrecords 3\nsubject_keys 2\nconsents 1\n"
	old := `{"subject_fp": "0123456789abcdef0123456789abcdef", "erased_at": "2027-01-15T08:00:00Z", "records": 3, "subject_keys": 2, "consents": 1,
	"key_id": "` + s.KeyID() + `", "signature": "` + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(msg))) + `", "kind": "subject"}`
	r, err := audit.ParseReceipt([]byte(old))
	if err != nil {
		t.Fatalf("ParseReceipt(v1 receipt) error = %v", err)
	}
	if err := audit.VerifyReceipt(r, s); err != nil {
		t.Errorf("VerifyReceipt(v1 receipt) = %v, want nil", err)
	}
}

// A deletion receipt (kind token) with the store's statement of what
// remains signs it (deletion receipt v2): changing or dropping it breaks
// the signature; one signed before the statement (v1, by hand) verifies.
func TestDeletionReceiptRemains(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s := audit.NewEd25519Signer(priv)
	r, err := audit.SignReceipt(context.Background(), s, audit.Receipt{Kind: audit.ReceiptToken, Class: "email", TokenFP: "AbCdEfGhIjKlMnOpQr",
		ErasedAt: time.Unix(1800000000, 0), Records: 1, Remains: "dead tuples until VACUUM\nrecords 0"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := audit.MarshalReceipt(r)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := audit.ParseReceipt(b)
	if err != nil {
		t.Fatalf("ParseReceipt(MarshalReceipt()) error = %v", err)
	}
	if err := audit.VerifyReceipt(parsed, s); err != nil || parsed.Remains != r.Remains {
		t.Errorf("VerifyReceipt(parsed) = %v with remains %q, want nil with %q", err, parsed.Remains, r.Remains)
	}
	tests := []struct {
		name   string
		change func(*audit.Receipt)
	}{
		{"statement changed", func(r *audit.Receipt) { r.Remains = "nothing remains" }},
		{"statement dropped", func(r *audit.Receipt) { r.Remains = "" }},
		{"token changed", func(r *audit.Receipt) { r.TokenFP = "AAAAAAAAAAAAAAAAAA" }},
		{"passed off as a subject receipt", func(r *audit.Receipt) { r.Kind = audit.ReceiptSubject }},
	}
	for _, tt := range tests {
		bad := r
		tt.change(&bad)
		if err := audit.VerifyReceipt(bad, s); err == nil {
			t.Errorf("VerifyReceipt(%s) = nil, want a signature error", tt.name)
		}
	}

	msg := "privacyvault deletion receipt v1\nclass email\ntoken_fp AbCdEfGhIjKlMnOpQr\nsubject \nerased_at 2027-01-15T08:00:00Z\nrecords 1\n"
	old := `{"kind": "token", "class": "email", "token_fp": "AbCdEfGhIjKlMnOpQr", "erased_at": "2027-01-15T08:00:00Z", "records": 1,
	"key_id": "` + s.KeyID() + `", "signature": "` + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(msg))) + `"}`
	v1, err := audit.ParseReceipt([]byte(old))
	if err != nil {
		t.Fatalf("ParseReceipt(v1 deletion receipt) error = %v", err)
	}
	if err := audit.VerifyReceipt(v1, s); err != nil {
		t.Errorf("VerifyReceipt(v1 deletion receipt) = %v, want nil", err)
	}
}
