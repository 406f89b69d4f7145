package server_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// TestDSARAndReportsOverGRPC: the readable export (class descriptions,
// binary flag, consents, access history), DeleteToken, ExplainPolicy and
// the access report, with their refusals, through the real API.
func TestDSARAndReportsOverGRPC(t *testing.T) {
	h := servertest.Start(t, servertest.Options{Config: examples.Config})
	ctx := context.Background()
	app, dpoC, opsC := h.Client(checkout), h.Client(dpo), h.Client(ops)
	doc := []byte{0xff, 0x00, 0x10}
	res, err := app.TokenizeBatch(ctx, []client.TokenizeItem{
		{Class: "email", Value: []byte("eve@example.com"), SubjectID: "cust-7"},
		{Class: "document", Value: doc, SubjectID: "cust-7"},
		{Class: "notes", Value: []byte("no subject here")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Detokenize(ctx, "payment", "email", res[0].Token); err != nil {
		t.Fatal(err)
	}
	if _, err := dpoC.SetConsent(ctx, "cust-7", "marketing", "consent", time.Time{}); err != nil {
		t.Fatal(err)
	}
	exp, err := dpoC.ExportSubjectAll(ctx, "cust-7")
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.Tokens) != 2 || len(exp.Consents) != 1 || len(exp.Accesses) == 0 {
		t.Fatalf("ExportSubject = %d tokens, %d consents, %d accesses; want 2, 1, some", len(exp.Tokens), len(exp.Consents), len(exp.Accesses))
	}
	for _, tk := range exp.Tokens {
		switch tk.GetClass() {
		case "email":
			if tk.GetClassDescription() != "Customer e-mail address" || tk.GetBinary() || string(tk.GetValue()) != "eve@example.com" {
				t.Errorf("export email = %v, want the description, text, the value", tk)
			}
		case "document":
			if !tk.GetBinary() || base64.StdEncoding.EncodeToString(tk.GetValue()) != base64.StdEncoding.EncodeToString(doc) {
				t.Errorf("export document = %v, want binary and the bytes", tk)
			}
		}
	}
	if _, err := app.ExportSubjectAll(ctx, "cust-7"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("ExportSubject as checkout = %v, want PermissionDenied", err)
	}

	if _, err := dpoC.DeleteToken(ctx, "card_fpe", "4111111111111111"); status.Code(err) != codes.InvalidArgument {
		t.Errorf("DeleteToken(fpe) = %v, want InvalidArgument", err)
	}
	if _, err := app.DeleteToken(ctx, "notes", res[2].Token); status.Code(err) != codes.PermissionDenied {
		t.Errorf("DeleteToken as checkout = %v, want PermissionDenied", err)
	}
	r, err := dpoC.DeleteToken(ctx, "notes", res[2].Token)
	if err != nil || r.GetKind() != "token" || r.GetClass() != "notes" || r.GetTokenFp() == "" || len(r.GetSignature()) == 0 {
		t.Fatalf("DeleteToken(notes) = %v, %v; want a signed token receipt", r, err)
	}
	if _, err := dpoC.Detokenize(ctx, "dsar", "notes", res[2].Token); status.Code(err) != codes.NotFound {
		t.Errorf("Detokenize(deleted) = %v, want NotFound", err)
	}

	e, err := opsC.ExplainPolicy(ctx, "support", "customer-support", "ssn")
	if err != nil || e.GetReveal() != "deny" || e.GetGrantIndex() != 7 || e.GetReason() != "denied_by_grant" {
		t.Errorf("ExplainPolicy(support, customer-support, ssn) = %v, %v; want deny by grants[7]", e, err)
	}
	e, err = opsC.ExplainPolicy(ctx, "checkout", "marketing", "email")
	if err != nil || e.GetReveal() != "plain" || !e.GetRequiresConsent() {
		t.Errorf("ExplainPolicy(checkout, marketing, email) = %v, %v; want plain, requires consent", e, err)
	}
	if _, err := opsC.ExplainPolicy(ctx, "support", "customer-support", "passport"); status.Code(err) != codes.InvalidArgument {
		t.Errorf("ExplainPolicy(unknown class) = %v, want InvalidArgument", err)
	}
	if _, err := app.ExplainPolicy(ctx, "support", "customer-support", "ssn"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("ExplainPolicy as checkout = %v, want PermissionDenied", err)
	}

	rep, err := opsC.AccessReport(ctx, "checkout", time.Now().Add(-time.Hour), time.Time{})
	if err != nil || rep.GetValuesRevealed() != 1 || len(rep.GetRows()) != 1 || rep.GetRows()[0].GetClass() != "email" || rep.GetRows()[0].GetSubjectFp() == "" {
		t.Errorf("AccessReport(checkout) = %v, %v; want one email value of one subject", rep, err)
	}
	named, err := opsC.AccessReport(ctx, "checkout", time.Now().Add(-time.Hour), time.Time{}, "cust-1", "cust-7")
	if err != nil || len(named.GetRows()) != 1 || named.GetRows()[0].GetSubjectId() != "cust-7" {
		t.Errorf("AccessReport(checkout, subjects cust-1 cust-7) = %v, %v; want the row named cust-7", named, err)
	}
	if _, err := opsC.AccessReport(ctx, "checkout", time.Now(), time.Now().Add(-time.Hour)); status.Code(err) != codes.InvalidArgument {
		t.Errorf("AccessReport(until before since) = %v, want InvalidArgument", err)
	}

	_, err = app.Detokenize(ctx, "paymnet", "email", res[0].Token)
	st, _ := status.FromError(err)
	var reason string
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			reason = info.GetReason()
		}
	}
	if st.Code() != codes.PermissionDenied || reason != "UNDECLARED_PURPOSE" {
		t.Errorf("Detokenize(mistyped purpose) = %v (reason %q), want PermissionDenied with UNDECLARED_PURPOSE", err, reason)
	}
}
