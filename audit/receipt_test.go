package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
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
