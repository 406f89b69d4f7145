package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
)

// refusedCalls is every AdminService and SubjectService call, each naming
// subject where the call takes one, with the op its audit event names.
func refusedCalls(subject string) []struct {
	op   string
	call func(ctx context.Context, c *client.Client) error
} {
	items := []client.DetokenizeItem{{Class: "card_fpe", Token: "4111111111111111"}}
	noEmit := func(string, string, error) error { return nil }
	return []struct {
		op   string
		call func(ctx context.Context, c *client.Client) error
	}{
		{"admin.key_status", func(ctx context.Context, c *client.Client) error { _, err := c.KeyStatus(ctx); return err }},
		{"admin.rotate", func(ctx context.Context, c *client.Client) error { _, err := c.RotateKey(ctx, "email"); return err }},
		{"admin.rewrap", func(ctx context.Context, c *client.Client) error { _, err := c.RewrapKeys(ctx); return err }},
		{"admin.reencrypt", func(ctx context.Context, c *client.Client) error {
			_, err := c.StartReencrypt(ctx, "email")
			return err
		}},
		{"admin.reencrypt_status", func(ctx context.Context, c *client.Client) error { _, err := c.Reencrypt(ctx, "email"); return err }},
		{"admin.retire", func(ctx context.Context, c *client.Client) error {
			_, err := c.RetireKeyVersions(ctx, "email", 1)
			return err
		}},
		{"admin.retokenize", func(ctx context.Context, c *client.Client) error {
			return c.RetokenizeFPE(ctx, "card_fpe", 1, 2, items, 10, noEmit)
		}},
		{"admin.audit_verify", func(ctx context.Context, c *client.Client) error { _, err := c.VerifyAudit(ctx); return err }},
		{"admin.audit_subject_report", func(ctx context.Context, c *client.Client) error {
			_, err := c.SubjectAccessReport(ctx, subject)
			return err
		}},
		{"admin.audit_tail", func(ctx context.Context, c *client.Client) error {
			return c.TailAudit(ctx, 1, func(string) error { return nil })
		}},
		{"admin.purge", func(ctx context.Context, c *client.Client) error { _, err := c.PurgeExpired(ctx); return err }},
		{"consent.set", func(ctx context.Context, c *client.Client) error {
			_, err := c.SetConsent(ctx, subject, "marketing", "consent", time.Time{})
			return err
		}},
		{"consent.revoke", func(ctx context.Context, c *client.Client) error {
			_, err := c.RevokeConsent(ctx, subject, "marketing")
			return err
		}},
		{"consent.list", func(ctx context.Context, c *client.Client) error { _, err := c.ListConsents(ctx, subject); return err }},
		{"subject.export", func(ctx context.Context, c *client.Client) error { _, err := c.ExportSubject(ctx, subject); return err }},
		{"subject.rectify", func(ctx context.Context, c *client.Client) error {
			return c.RectifyToken(ctx, "email", "pvt_x", []byte("a@example.com"))
		}},
		{"subject.erase", func(ctx context.Context, c *client.Client) error { _, err := c.EraseSubject(ctx, subject); return err }},
	}
}

// TestRefusedCallsAudited: every AdminService and SubjectService call by
// a caller that may not make it is PermissionDenied, writes a deny event
// naming the caller and the operation (and the subject, which then shows
// in the subject's access report), and counts towards the denied-burst
// alert.
func TestRefusedCallsAudited(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	app := h.Client(checkout)
	calls := refusedCalls("cust-probed")
	for range 2 { // 2 × 17 refused calls pass the burst limit of 20
		for _, tt := range calls {
			if err := tt.call(ctx, app); status.Code(err) != codes.PermissionDenied {
				t.Errorf("%s by a non-admin, non-manager caller = %v, want PermissionDenied", tt.op, err)
			}
		}
	}
	if got := h.Server.Metrics().Get("privacyvault_alerts_total", "kind", "denied_burst"); got != 1 {
		t.Errorf("denied_burst alerts after %d refused calls = %v, want 1", 2*len(calls), got)
	}
	report, err := h.Client(ops).SubjectAccessReport(ctx, "cust-probed")
	if err != nil {
		t.Fatal(err)
	}
	reported := map[string]int{}
	for _, a := range report {
		if a.GetCaller() == "checkout" && a.GetDecision() == "deny" {
			reported[a.GetOp()]++
		}
	}
	for _, op := range []string{"consent.set", "consent.revoke", "consent.list", "subject.export", "subject.erase"} {
		if reported[op] != 2 {
			t.Errorf("access report of the probed subject lists %d refused %s calls, want 2", reported[op], op)
		}
	}

	h.Stop()
	denied := map[string]int{}
	burst := 0
	for _, ev := range auditEvents(t, h.DataDir) {
		if ev.Caller == "checkout" && ev.Decision == "deny" && ev.Alert == "" {
			denied[string(ev.Op)]++
		}
		if ev.Alert == "denied_burst" && ev.Caller == "checkout" {
			burst++
		}
	}
	for _, tt := range calls {
		if denied[tt.op] != 2 {
			t.Errorf("audit log has %d deny events for %s by checkout, want 2", denied[tt.op], tt.op)
		}
	}
	if burst != 1 {
		t.Errorf("audit log has %d denied_burst alerts for checkout, want 1", burst)
	}
}

// TestUndeclaredNamesRefused: admin calls naming a class and consent
// calls naming a purpose accept only configured names (InvalidArgument on
// the field otherwise), and the audit log never holds the name given.
func TestUndeclaredNamesRefused(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	admin, dpoc := h.Client(ops), h.Client(dpo)
	const planted = "alice@example.com"
	tests := []struct {
		name  string
		field string
		call  func() error
	}{
		{"RotateKey", "class", func() error { _, err := admin.RotateKey(ctx, planted); return err }},
		{"StartReencrypt", "class", func() error { _, err := admin.StartReencrypt(ctx, planted); return err }},
		{"GetReencrypt", "class", func() error { _, err := admin.Reencrypt(ctx, planted); return err }},
		{"RetireKeyVersions", "class", func() error { _, err := admin.RetireKeyVersions(ctx, planted, 1); return err }},
		{"RetokenizeFPE", "class", func() error {
			return admin.RetokenizeFPE(ctx, planted, 1, 2, []client.DetokenizeItem{{Token: "4111111111111111"}}, 10, func(string, string, error) error { return nil })
		}},
		{"SetConsent", "purpose", func() error {
			_, err := dpoc.SetConsent(ctx, "cust-1", planted, "consent", time.Time{})
			return err
		}},
		{"RevokeConsent", "purpose", func() error { _, err := dpoc.RevokeConsent(ctx, "cust-1", planted); return err }},
	}
	for _, tt := range tests {
		err := tt.call()
		if status.Code(err) != codes.InvalidArgument || fieldViolation(err) != tt.field {
			t.Errorf("%s(undeclared name) = %v (field %q), want InvalidArgument on %s", tt.name, err, fieldViolation(err), tt.field)
		}
	}
	if _, err := dpoc.SetConsent(ctx, "cust-1", "marketing", "consent", time.Time{}); err != nil {
		t.Errorf("SetConsent(declared purpose) = %v, want OK", err)
	}
	h.Stop()
	log := auditLogText(t, h.DataDir)
	if strings.Contains(log, planted) {
		t.Errorf("audit log holds the undeclared name %q", planted)
	}
}
