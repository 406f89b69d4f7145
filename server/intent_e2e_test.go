package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/examples"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	"github.com/privacyvault/privacyvault/server"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// switchAuditor fails every event while failing is set, as a full disk
// or a dead audit volume would.
type switchAuditor struct {
	next    core.Auditor
	failing *atomic.Bool
}

func (a switchAuditor) Record(ctx context.Context, e core.AuditEvent) error {
	if a.failing.Load() {
		return errors.New("injected audit failure")
	}
	return a.next.Record(ctx, e)
}

// TestNoChangeWithoutAudit: with the audit log failing, every changing
// admin and subject call returns Unavailable, and after a restart with a
// working log nothing changed: key not rotated or retired, consent neither
// set nor revoked, token not rectified, subject not erased, nothing purged.
func TestNoChangeWithoutAudit(t *testing.T) {
	dir := t.TempDir()
	failing := &atomic.Bool{}
	hook := func(a core.Auditor) core.Auditor { return switchAuditor{a, failing} }
	clock := servertest.NewClock()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir, AuditHook: hook, Clock: clock})
	ctx := context.Background()
	app, officer, admin := h.Client(checkout), h.Client(dpo), h.Client(ops)
	dana := tokenizeFor(t, app, "dana", subjectData{class: "email", value: "dana@example.com"})
	expiring, err := app.TokenizeBatch(ctx, []client.TokenizeItem{{Class: "card_number", Value: []byte("4111111111111111"), TTL: time.Second}})
	if err != nil || expiring[0].Err != nil {
		t.Fatalf("Tokenize(expiring) = %v, %v", err, expiring)
	}
	// Consents name purposes that require consent: marketing. The failing
	// SetConsent below would replace this one (no expiry).
	expires := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := officer.SetConsent(ctx, "dana", "marketing", "consent", expires); err != nil {
		t.Fatal(err)
	}
	before := classStatus(t, admin, "email")
	clock.Advance(1100 * time.Millisecond) // past the 1s TTL

	failing.Store(true)
	calls := []struct {
		name string
		call func() error
	}{
		{"RotateKey", func() error { _, err := admin.RotateKey(ctx, "email"); return err }},
		{"RetireKeyVersions", func() error { _, err := admin.RetireKeyVersions(ctx, "email", 1); return err }},
		{"RewrapKeys", func() error { _, err := admin.RewrapKeys(ctx); return err }},
		{"StartReencrypt", func() error { _, err := admin.StartReencrypt(ctx, "email"); return err }},
		{"PurgeExpired", func() error { _, err := admin.PurgeExpired(ctx); return err }},
		{"SetConsent", func() error {
			_, err := officer.SetConsent(ctx, "dana", "marketing", "consent", time.Time{})
			return err
		}},
		{"RevokeConsent", func() error { _, err := officer.RevokeConsent(ctx, "dana", "marketing"); return err }},
		{"RectifyToken", func() error { return officer.RectifyToken(ctx, "email", dana[0].token, []byte("changed@example.com")) }},
		{"EraseSubject", func() error { _, err := officer.EraseSubject(ctx, "dana"); return err }},
	}
	for _, c := range calls {
		if err := c.call(); status.Code(err) != codes.Unavailable {
			t.Errorf("%s with a failing audit log = %v, want Unavailable", c.name, err)
		}
	}
	h.Stop()

	h = servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir, Clock: clock})
	app, officer, admin = h.Client(checkout), h.Client(dpo), h.Client(ops)
	after := classStatus(t, admin, "email")
	if after.GetCurrentVersion() != before.GetCurrentVersion() || after.GetMinDecryptionVersion() != before.GetMinDecryptionVersion() {
		t.Errorf("after restart email key = v%d min %d, want v%d min %d (not rotated, not retired)",
			after.GetCurrentVersion(), after.GetMinDecryptionVersion(), before.GetCurrentVersion(), before.GetMinDecryptionVersion())
	}
	if _, err := admin.Reencrypt(ctx, "email"); status.Code(err) != codes.NotFound {
		t.Errorf("GetReencrypt(email) after restart = %v, want NotFound (no job was started)", err)
	}
	cs, err := officer.ListConsents(ctx, "dana")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].GetPurpose() != "marketing" || !cs[0].GetLive() || !cs[0].GetExpiresAt().AsTime().Equal(expires) {
		t.Errorf("ListConsents(dana) after restart = %v, want only the first, live marketing consent (expiring %v)", cs, expires)
	}
	if v, err := detokenizeFor(app, "dana", dana[0]); err != nil || v != dana[0].value {
		t.Errorf("Detokenize(dana's email) after restart = %q, %v; want %q (not rectified, not erased)", v, err, dana[0].value)
	}
	if n := recordsOf(t, admin, "card_number"); n != 1 {
		t.Errorf("card_number records after restart = %d, want 1 (the expired one not purged)", n)
	}
}

// downSigner fails every signature, as a Vault Transit outage would.
type downSigner struct{}

func (downSigner) Sign(context.Context, []byte) ([]byte, string, error) {
	return nil, "", errors.New("injected signer outage")
}

// TestEraseReceiptAfterSignerOutage: when the receipt cannot be signed the
// erasure still stands (Unavailable, subject gone, intent and outcome in
// the log), and erasing again once signing works returns the receipt of
// the first erasure, signed.
func TestEraseReceiptAfterSignerOutage(t *testing.T) {
	dir := t.TempDir()
	hooks := server.Hooks{Receipts: func(core.ReceiptSigner) core.ReceiptSigner { return downSigner{} }}
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir, Hooks: hooks})
	ctx := context.Background()
	app, officer := h.Client(checkout), h.Client(dpo)
	erin := tokenizeFor(t, app, "erin",
		subjectData{class: "email", value: "erin@example.com"},
		subjectData{class: "card_number", value: "4111111111111111"})
	if _, err := officer.EraseSubject(ctx, "erin"); status.Code(err) != codes.Unavailable {
		t.Fatalf("EraseSubject(erin) with the signer down = %v, want Unavailable", err)
	}
	for _, d := range erin {
		if _, err := detokenizeFor(app, "erin", d); status.Code(err) != codes.NotFound {
			t.Errorf("Detokenize(erin's %s) after erasure without receipt = %v, want NotFound (the erasure stands)", d.class, err)
		}
	}
	acc, err := h.Client(ops).SubjectAccessReport(ctx, "erin")
	if err != nil {
		t.Fatal(err)
	}
	var erases int
	for _, a := range acc {
		if a.GetOp() == "subject.erase" {
			erases++
		}
	}
	if erases != 2 {
		t.Errorf("subject.erase events of erin = %d, want 2 (intent, then outcome)", erases)
	}
	h.Stop()

	h = servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	r, err := h.Client(dpo).EraseSubject(ctx, "erin")
	if err != nil {
		t.Fatalf("EraseSubject(erin) again = %v, want the stored receipt", err)
	}
	if r.GetRecords() != 2 || r.GetSubjectKeys() != 2 || len(r.GetSignature()) == 0 {
		t.Errorf("receipt fetched again = %v, want the first erasure's 2 records and 2 subject keys, signed", r)
	}
	if err := audit.VerifyReceipt(receiptOfPB(r), loadPub(t, dir)); err != nil {
		t.Errorf("VerifyReceipt(receipt fetched again) = %v, want nil", err)
	}
}

func receiptOfPB(r *pb.ErasureReceipt) audit.Receipt {
	return audit.Receipt{
		Subject: r.GetSubjectFp(), ErasedAt: r.GetErasedAt().AsTime(), Records: int(r.GetRecords()),
		Keys: int(r.GetSubjectKeys()), Consents: int(r.GetConsents()), KeyID: r.GetKeyId(), Signature: r.GetSignature(),
		Remains: r.GetRemains(), Kind: r.GetKind(), Class: r.GetClass(), TokenFP: r.GetTokenFp(),
	}
}

func loadPub(t *testing.T, dataDir string) audit.Verifier {
	t.Helper()
	v, err := audit.LoadEd25519Verifier(filepath.Join(dataDir, "audit-signing.key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestIntentThenOutcome: a change writes its intent event before its
// outcome, both naming the caller and class.
func TestIntentThenOutcome(t *testing.T) {
	h := servertest.Start(t, servertest.Options{Config: examples.Config})
	if _, err := h.Client(ops).RotateKey(context.Background(), "email"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(h.DataDir, "audit", audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(string(b), "\n") {
		var ev audit.Event
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Op == "admin.rotate" {
			got = append(got, ev.Caller+"/"+ev.Class+"/"+string(ev.Decision)+"/"+ev.Reason)
		}
	}
	want := []string{"ops/email/allow/" + core.ReasonIntent, "ops/email/allow/"}
	if !slices.Equal(got, want) {
		t.Errorf("admin.rotate events = %v, want %v", got, want)
	}
}
