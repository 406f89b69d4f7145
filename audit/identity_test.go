package audit_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
)

// TestReportIdentity: one identity's reveals in a window, by subject,
// class and purpose; others' events, refusals and non-reveals are not
// counted as revealed.
func TestReportIdentity(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{CheckpointEvery: 2})
	alice, bob := testFP.Subject("alice"), testFP.Subject("bob")
	events := []audit.Event{
		{Caller: "support", Purpose: "support", Op: "detokenize", Class: "email", Count: 2, Decision: audit.DecisionAllow, Subject: alice},
		{Caller: "support", Purpose: "support", Op: "detokenize", Class: "email", Count: 1, Decision: audit.DecisionPartial, Subject: alice},
		{Caller: "support", Purpose: "support", Op: "detokenize", Class: "phone", Count: 1, Decision: audit.DecisionAllow, Subject: bob},
		{Caller: "support", Purpose: "support", Op: "detokenize", Class: "ssn", Count: 4, Decision: audit.DecisionDeny, Subject: bob},
		{Caller: "support", Op: "tokenize", Class: "email", Count: 9, Decision: audit.DecisionAllow},
		{Caller: "supporter", Purpose: "support", Op: "detokenize", Class: "email", Count: 7, Decision: audit.DecisionAllow, Subject: alice},
	}
	for _, ev := range events {
		if _, err := l.Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	closeLog(t, l)
	read := func(since, until time.Time) audit.IdentityReport {
		f, err := os.Open(filepath.Join(dir, audit.FileName))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rep, err := audit.ReportIdentity(f, "support", since, until)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := read(time.Now().Add(-time.Hour), time.Time{})
	if rep.Events != 5 || rep.Values != 4 || rep.Denied != 1 || len(rep.Rows) != 2 {
		t.Fatalf("ReportIdentity(support) = %+v; want 5 events, 4 values revealed, 1 denied, 2 rows", rep)
	}
	if r := rep.Rows[0]; r.Subject != alice || r.Class != "email" || r.Values != 3 || r.Purpose != "support" {
		t.Errorf("row 0 = %+v, want alice's email, 3 values (the partial call counted in full)", r)
	}
	if r := rep.Rows[1]; r.Subject != bob || r.Class != "phone" || r.Values != 1 {
		t.Errorf("row 1 = %+v, want bob's phone, 1 value", r)
	}
	if rep := read(time.Now().Add(time.Hour), time.Time{}); rep.Events != 0 || len(rep.Rows) != 0 {
		t.Errorf("ReportIdentity(window after the events) = %+v, want empty", rep)
	}
}

// TestParseReceiptEveryForm: the canonical form, the API's camelCase JSON
// bare and wrapped all parse to the receipt that was signed.
func TestParseReceiptEveryForm(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	s := audit.NewEd25519Signer(priv)
	r, err := audit.SignReceipt(context.Background(), s, audit.Receipt{Kind: audit.ReceiptToken, Class: "notes", TokenFP: testFP.Token("notes", "t"),
		ErasedAt: time.Date(2026, 11, 30, 1, 2, 3, 456, time.UTC), Records: 1})
	if err != nil {
		t.Fatal(err)
	}
	canonical, err := audit.MarshalReceipt(r)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := json.Marshal(r.Signature)
	api := `{"subjectFp":"","erasedAt":"2026-11-30T01:02:03.000000456Z","records":1,"subjectKeys":0,"consents":0,"keyId":"` + r.KeyID +
		`","signature":` + string(sig) + `,"kind":"token","class":"notes","tokenFp":"` + r.TokenFP + `"}`
	forms := map[string]string{
		"canonical":   string(canonical),
		"api":         api,
		"api wrapped": `{"receipt":` + api + `}`,
		"api strings": strings.Replace(api, `"records":1`, `"records":"1"`, 1),
	}
	v := audit.NewEd25519Verifier(s.Public())
	for name, b := range forms {
		got, err := audit.ParseReceipt([]byte(b))
		if err != nil {
			t.Errorf("ParseReceipt(%s) = %v", name, err)
			continue
		}
		if err := audit.VerifyReceipt(got, v); err != nil {
			t.Errorf("VerifyReceipt(ParseReceipt(%s)) = %v", name, err)
		}
	}
	tampered := strings.Replace(api, `"records":1`, `"records":2`, 1)
	got, err := audit.ParseReceipt([]byte(tampered))
	if err != nil || audit.VerifyReceipt(got, v) == nil {
		t.Errorf("VerifyReceipt(tampered) = nil, want a signature error")
	}
	if _, err := audit.ParseReceipt([]byte(`{"subjectFp":"x","bogus":1}`)); err == nil {
		t.Error("ParseReceipt(unknown field) = nil error")
	}
}
