package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MarshalReceipt returns r's canonical JSON form: snake_case fields, UTC
// RFC 3339 time, base64 signature, indented. The CLI writes receipts in
// this form; ParseReceipt reads it and the API's forms.
func MarshalReceipt(r Receipt) ([]byte, error) {
	r.ErasedAt = r.ErasedAt.UTC()
	if r.Kind == "" {
		r.Kind = ReceiptSubject
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("audit: receipt: %w", err)
	}
	return append(b, '\n'), nil
}

// ParseReceipt reads a receipt in any form privacyvault produces: the
// canonical form (MarshalReceipt), the API's protobuf JSON (camelCase,
// e.g. from grpcurl or an SDK: subjectFp, erasedAt, subjectKeys, keyId,
// tokenFp), and either wrapped in a response ({"receipt": {...}}).
func ParseReceipt(b []byte) (Receipt, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return Receipt{}, fmt.Errorf("audit: receipt: %w", err)
	}
	if inner, ok := fields["receipt"]; ok && len(fields) == 1 {
		fields = nil
		if err := json.Unmarshal(inner, &fields); err != nil {
			return Receipt{}, fmt.Errorf("audit: receipt: %w", err)
		}
	}
	var r Receipt
	var str = func(v json.RawMessage, dst *string) error { return json.Unmarshal(v, dst) }
	// Protobuf JSON writes 64-bit and some 32-bit numbers as strings.
	var num = func(v json.RawMessage, dst *int) error {
		v = bytes.Trim(v, `"`)
		return json.Unmarshal(v, dst)
	}
	for k, v := range fields {
		var err error
		switch k {
		case "subject_fp", "subjectFp":
			err = str(v, &r.Subject)
		case "erased_at", "erasedAt":
			var s string
			if err = str(v, &s); err == nil {
				r.ErasedAt, err = time.Parse(time.RFC3339Nano, s)
			}
		case "records":
			err = num(v, &r.Records)
		case "subject_keys", "subjectKeys":
			err = num(v, &r.Keys)
		case "consents":
			err = num(v, &r.Consents)
		case "key_id", "keyId":
			err = str(v, &r.KeyID)
		case "signature":
			var s string
			if err = str(v, &s); err == nil {
				r.Signature, err = decodeB64(s)
			}
		case "kind":
			err = str(v, &r.Kind)
		case "class":
			err = str(v, &r.Class)
		case "token_fp", "tokenFp":
			err = str(v, &r.TokenFP)
		case "remains":
			err = str(v, &r.Remains)
		default:
			return Receipt{}, fmt.Errorf("audit: receipt: unknown field %q", k)
		}
		if err != nil {
			return Receipt{}, fmt.Errorf("audit: receipt field %s: %w", k, err)
		}
	}
	if r.KeyID == "" || len(r.Signature) == 0 {
		return Receipt{}, errors.New("audit: receipt: key_id and signature are required")
	}
	return r, nil
}

// decodeB64 accepts standard and URL-safe base64, padded or not (protobuf
// JSON readers accept all four).
func decodeB64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("signature is not base64")
}
