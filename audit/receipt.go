package audit

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Receipt is the signed record of a data subject's erasure, signed like
// audit checkpoints so the same key (file or Vault Transit) vouches for it.
type Receipt struct {
	// Subject is the keyed fingerprint of the erased subject: the receipt
	// proves erasure without naming the person.
	Subject   string    `json:"subject_fp"`
	ErasedAt  time.Time `json:"erased_at"`
	Records   int       `json:"records"`
	Keys      int       `json:"subject_keys"`
	Consents  int       `json:"consents"`
	KeyID     string    `json:"key_id"`
	Signature []byte    `json:"signature"`
	// Kind is what was erased: "subject" (the default, also when empty)
	// or "token" (one value, DeleteToken).
	Kind string `json:"kind,omitempty"`
	// Class and TokenFP name the deleted token of a "token" receipt.
	Class   string `json:"class,omitempty"`
	TokenFP string `json:"token_fp,omitempty"`
	// Remains states what the store still holds after a subject's
	// erasure or a token's deletion (dead tuples, WAL, backups) and why
	// it cannot be read; it is signed. Empty on receipts made before it
	// was added, which keep their v1 signed form and still verify.
	Remains string `json:"remains,omitempty"`
}

// Receipt kinds.
const (
	ReceiptSubject = "subject"
	ReceiptToken   = "token"
)

// receiptMessage is what a receipt's signature covers.
func receiptMessage(r Receipt) []byte {
	if r.Kind == ReceiptToken && r.Remains != "" {
		// v2 adds the store's statement of what remains, quoted as in
		// the erasure receipt's v2.
		return fmt.Appendf(nil, "privacyvault deletion receipt v2\nclass %s\ntoken_fp %s\nsubject %s\nerased_at %s\nrecords %d\nremains %s\n",
			r.Class, r.TokenFP, r.Subject, r.ErasedAt.UTC().Format(time.RFC3339Nano), r.Records, strconv.Quote(r.Remains))
	}
	if r.Kind == ReceiptToken {
		// Signed fields differ from a subject receipt's, and the first
		// line keeps one kind from passing for the other.
		return fmt.Appendf(nil, "privacyvault deletion receipt v1\nclass %s\ntoken_fp %s\nsubject %s\nerased_at %s\nrecords %d\n",
			r.Class, r.TokenFP, r.Subject, r.ErasedAt.UTC().Format(time.RFC3339Nano), r.Records)
	}
	if r.Remains != "" {
		// v2 adds the statement of what remains, quoted so that no text
		// can pass for another line.
		return fmt.Appendf(nil, "privacyvault erasure receipt v2\nsubject %s\nerased_at %s\nrecords %d\nsubject_keys %d\nconsents %d\nremains %s\n",
			r.Subject, r.ErasedAt.UTC().Format(time.RFC3339Nano), r.Records, r.Keys, r.Consents, strconv.Quote(r.Remains))
	}
	return fmt.Appendf(nil, "privacyvault erasure receipt v1\nsubject %s\nerased_at %s\nrecords %d\nsubject_keys %d\nconsents %d\n",
		r.Subject, r.ErasedAt.UTC().Format(time.RFC3339Nano), r.Records, r.Keys, r.Consents)
}

// SignReceipt fills r's KeyID and Signature.
func SignReceipt(ctx context.Context, s Signer, r Receipt) (Receipt, error) {
	sig, keyID, err := s.Sign(ctx, receiptMessage(r))
	if err != nil {
		return Receipt{}, fmt.Errorf("audit: sign receipt: %w", err)
	}
	r.Signature, r.KeyID = sig, keyID
	return r, nil
}

// VerifyReceipt checks r's signature with v.
func VerifyReceipt(r Receipt, v Verifier) error {
	if err := v.Verify(r.KeyID, receiptMessage(r), r.Signature); err != nil {
		return fmt.Errorf("audit: receipt: %w", err)
	}
	return nil
}
