package core_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/tokenizer"
	"github.com/privacyvault/privacyvault/tokenizer/format"
)

func digitsFormat(t *testing.T) format.Format {
	t.Helper()
	f, err := format.New(format.Spec{Name: format.NameDigits})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// testClock is a settable clock for core.Config.Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// newParts returns a service with a clock and a receipt signer, for the
// key administration and subject lifecycle parts.
func newParts(t *testing.T) (*core.Service, *memAuditor, *testClock, *audit.Ed25519Signer) {
	t.Helper()
	st := tempStore(t)
	keys := tempKeys(t)
	signer, err := audit.LoadOrCreateEd25519(filepath.Join(t.TempDir(), "receipts.key"))
	if err != nil {
		t.Fatal(err)
	}
	a, clock := &memAuditor{}, &testClock{now: time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)}
	svc, err := core.New(context.Background(), core.Config{
		Classes: []core.ClassSpec{
			{Name: "email", Mode: tokenizer.Deterministic},
			{Name: "card", Mode: tokenizer.Random, Retention: 24 * time.Hour},
			{Name: "acct", Mode: tokenizer.FPE, Format: digitsFormat(t)},
		},
		Store: st,
		Keys:  keys,
		Policy: mustPolicy(t, policy.Spec{
			Purposes: []policy.Purpose{{Name: "support"}, {Name: "dsar"}},
			Grants: []policy.Grant{
				{Identity: "desk", Purpose: "support", Class: "*", Reveal: policy.Plain},
				{Identity: "dpo", Purpose: "dsar", Class: "*", Reveal: policy.Plain},
			},
		}),
		Auditor:       a,
		Fingerprints:  testFingerprints{},
		Receipts:      signer,
		MaxValueBytes: 1024,
		Now:           clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc, a, clock, signer
}

func tokenizeOne(t *testing.T, svc *core.Service, it core.TokenizeItem) string {
	t.Helper()
	res, err := svc.Tokenize(context.Background(), "app", []core.TokenizeItem{it})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Tokenize(%s) = %v, %v", it.Class, res, err)
	}
	return res[0].Token
}

func reveal(svc *core.Service, caller, purpose, class, token string) ([]byte, error) {
	res, err := svc.Detokenize(context.Background(), caller, purpose, []core.DetokenizeItem{{Class: class, Token: token}})
	if err != nil {
		return nil, err
	}
	return res[0].Value, res[0].Err
}

func versionRecords(st core.ClassKeyStatus) map[uint32]uint64 {
	out := map[uint32]uint64{}
	for _, v := range st.Versions {
		out[v.Version] = v.Records
	}
	return out
}

// TestKeyAdminRotateReencryptRetire: after a rotation new records use the
// new version; retiring the old one is refused while records need it,
// re-encryption moves them, and then retiring succeeds with every token
// still readable.
func TestKeyAdminRotateReencryptRetire(t *testing.T) {
	svc, _, _, _ := newParts(t)
	ctx := context.Background()
	old := tokenizeOne(t, svc, core.TokenizeItem{Class: "card", Value: []byte("4111111111111111")})
	st, err := svc.Rotate(ctx, "card")
	if err != nil || st.Current != 2 {
		t.Fatalf("Rotate(card) = %+v, %v; want current 2", st, err)
	}
	fresh := tokenizeOne(t, svc, core.TokenizeItem{Class: "card", Value: []byte("5500005555555559")})
	all, err := svc.KeyStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		if got := versionRecords(c); c.Class == "card" && (got[1] != 1 || got[2] != 1) {
			t.Errorf("KeyStatus card records by version = %v, want 1 under v1 and 1 under v2", got)
		}
	}
	var pre *core.PreconditionError
	if _, err := svc.Retire(ctx, "card", 2); !errors.As(err, &pre) {
		t.Errorf("Retire(card, 2) with a v1 record = %v, want a PreconditionError", err)
	}
	if _, err := svc.StartReencrypt(ctx, "card"); err != nil {
		t.Fatalf("StartReencrypt(card) = %v", err)
	}
	// Polling with a generous bound: the job runs in the background.
	var job core.ReencryptStatus
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if job, err = svc.ReencryptStatus(ctx, "card"); err != nil || job.State != core.JobRunning || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || job.State != core.JobDone || job.Moved != 1 {
		t.Fatalf("ReencryptStatus(card) = %+v, %v; want done with 1 moved", job, err)
	}
	if st, err := svc.Retire(ctx, "card", 2); err != nil || st.MinDecryptionVersion != 2 {
		t.Errorf("Retire(card, 2) after re-encryption = %+v, %v; want min decryption version 2", st, err)
	}
	for _, tok := range []string{old, fresh} {
		if _, err := reveal(svc, "desk", "support", "card", tok); err != nil {
			t.Errorf("Detokenize after retire = %v, want the value", err)
		}
	}
	if n, err := svc.Rewrap(ctx); err != nil || n < 3 {
		t.Errorf("Rewrap() = %d, %v; want at least the 3 data keys", n, err)
	}
	if _, err := svc.ReencryptStatus(ctx, "email"); !errors.Is(err, core.ErrNoJob) {
		t.Errorf("ReencryptStatus(email, never started) = %v, want ErrNoJob", err)
	}
}

// TestSubjectsExportRectifyErase: a subject's tokens are exported with
// their values, a rectified token reads the new value, erasure makes the
// tokens unreadable and returns a receipt the signer verifies, and erasing
// again returns the same receipt.
func TestSubjectsExportRectifyErase(t *testing.T) {
	svc, _, _, signer := newParts(t)
	ctx := context.Background()
	email := tokenizeOne(t, svc, core.TokenizeItem{Class: "email", Value: []byte("dana@example.com"), SubjectID: "dana"})
	card := tokenizeOne(t, svc, core.TokenizeItem{Class: "card", Value: []byte("4111111111111111"), SubjectID: "dana"})
	tokenizeOne(t, svc, core.TokenizeItem{Class: "card", Value: []byte("5500005555555559"), SubjectID: "erin"})

	items, err := svc.ExportSubject(ctx, "dpo", "dana")
	if err != nil || len(items) != 2 {
		t.Fatalf("ExportSubject(dana) = %d items, %v; want 2", len(items), err)
	}
	for _, it := range items {
		if string(it.Value) != map[string]string{email: "dana@example.com", card: "4111111111111111"}[it.Token] {
			t.Errorf("ExportSubject item %s = %q, want its tokenized value", it.Class, it.Value)
		}
	}
	if err := svc.RectifyToken(ctx, "dpo", "card", card, []byte("4000056655665556")); err != nil {
		t.Fatalf("RectifyToken = %v", err)
	}
	if v, err := reveal(svc, "desk", "support", "card", card); err != nil || string(v) != "4000056655665556" {
		t.Errorf("Detokenize after rectify = %q, %v; want the new value", v, err)
	}

	r, err := svc.EraseSubject(ctx, "dpo", "dana")
	if err != nil || r.Records != 2 {
		t.Fatalf("EraseSubject(dana) = %+v, %v; want 2 records erased", r, err)
	}
	if err := audit.VerifyReceipt(r, signer); err != nil {
		t.Errorf("VerifyReceipt(erasure receipt) = %v", err)
	}
	for _, tt := range []struct{ class, token string }{{"email", email}, {"card", card}} {
		if _, err := reveal(svc, "desk", "support", tt.class, tt.token); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("Detokenize(%s of an erased subject) = %v, want ErrNotFound", tt.class, err)
		}
	}
	again, err := svc.EraseSubject(ctx, "dpo", "dana")
	if err != nil || again.Records != r.Records || !again.ErasedAt.Equal(r.ErasedAt) {
		t.Errorf("EraseSubject(dana) again = %+v, %v; want the first receipt %+v", again, err, r)
	}
	if items, err := svc.ExportSubject(ctx, "dpo", "erin"); err != nil || len(items) != 1 {
		t.Errorf("ExportSubject(erin) after erasing dana = %d items, %v; want 1", len(items), err)
	}
}

// TestSubjectsPurgeExpired: an expired record is unreadable at once and
// removed by the purge; an unexpired one stays.
func TestSubjectsPurgeExpired(t *testing.T) {
	svc, _, clock, _ := newParts(t)
	ctx := context.Background()
	short := tokenizeOne(t, svc, core.TokenizeItem{Class: "card", Value: []byte("4111111111111111"), TTL: time.Minute})
	long := tokenizeOne(t, svc, core.TokenizeItem{Class: "card", Value: []byte("5500005555555559")})
	clock.Advance(2 * time.Minute)
	if _, err := reveal(svc, "desk", "support", "card", short); !errors.Is(err, core.ErrExpired) {
		t.Errorf("Detokenize(expired) = %v, want ErrExpired", err)
	}
	n, err := svc.PurgeExpired(ctx)
	if err != nil || n["card"] != 1 {
		t.Errorf("PurgeExpired() = %v, %v; want card: 1", n, err)
	}
	if _, err := reveal(svc, "desk", "support", "card", short); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("Detokenize(purged) = %v, want ErrNotFound", err)
	}
	if _, err := reveal(svc, "desk", "support", "card", long); err != nil {
		t.Errorf("Detokenize(unexpired) after purge = %v", err)
	}
}

// TestDataPlaneLookup: lookup finds a deterministic token without making
// one, per subject, and refuses other modes.
func TestDataPlaneLookup(t *testing.T) {
	svc, a, _, _ := newParts(t)
	ctx := context.Background()
	tok := tokenizeOne(t, svc, core.TokenizeItem{Class: "email", Value: []byte("a@example.com"), SubjectID: "s1"})
	res, err := svc.Lookup(ctx, "app", []core.LookupItem{
		{Class: "email", Value: []byte("a@example.com"), SubjectID: "s1"},
		{Class: "email", Value: []byte("a@example.com")},
		{Class: "email", Value: []byte("b@example.com"), SubjectID: "s1"},
		{Class: "card", Value: []byte("4111111111111111")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var inv *core.InvalidError
	if res[0].Token != tok || !errors.Is(res[1].Err, core.ErrNotFound) || !errors.Is(res[2].Err, core.ErrNotFound) || !errors.As(res[3].Err, &inv) {
		t.Errorf("Lookup = %+v; want the token, not found (no subject), not found (other value), invalid (random class)", res)
	}
	last := a.events[len(a.events)-1]
	if last.Op != audit.OpLookup {
		t.Errorf("last audit event op = %q, want %q", last.Op, audit.OpLookup)
	}
}

// TestDataPlaneFPE: an fpe token keeps the value's format, depends on the
// context, decrypts back under the same context, and moves to a new key
// version by Retokenize.
func TestDataPlaneFPE(t *testing.T) {
	svc, _, _, _ := newParts(t)
	ctx := context.Background()
	a := tokenizeOne(t, svc, core.TokenizeItem{Class: "acct", Value: []byte("12345678"), Context: "tenant-1"})
	b := tokenizeOne(t, svc, core.TokenizeItem{Class: "acct", Value: []byte("12345678"), Context: "tenant-2"})
	if len(a) != 8 || strings.Trim(a, "0123456789") != "" || a == b {
		t.Errorf("fpe tokens = %q, %q; want 8 digits each, different per context", a, b)
	}
	res, err := svc.Detokenize(ctx, "desk", "support", []core.DetokenizeItem{
		{Class: "acct", Token: a, Context: "tenant-1"},
		{Class: "acct", Token: "123"},
	})
	var inv *core.InvalidError
	if err != nil || string(res[0].Value) != "12345678" || !errors.As(res[1].Err, &inv) {
		t.Errorf("Detokenize(fpe) = %+v, %v; want the value, then invalid (too short)", res, err)
	}
	if _, err := svc.Rotate(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	moved, err := svc.Retokenize(ctx, "acct", 1, 2, []core.RetokenizeItem{{Token: a, Context: "tenant-1"}})
	if err != nil || moved[0].Err != nil || moved[0].Token == a || len(moved[0].Token) != 8 {
		t.Errorf("Retokenize(1 -> 2) = %+v, %v; want a new 8-digit token", moved, err)
	}
	if _, err := svc.Retokenize(ctx, "card", 1, 2, nil); !errors.As(err, &inv) {
		t.Errorf("Retokenize(random class) = %v, want InvalidError", err)
	}
}

// TestBaseRecordsAdminAndRefusals: admin outcomes, intents and refusals
// are audited with the class only when it is configured, and names are
// checked against the configuration.
func TestBaseRecordsAdminAndRefusals(t *testing.T) {
	svc, a, _, _ := newParts(t)
	ctx := context.Background()
	if err := svc.RecordAdminIntent(ctx, "ops", "rotate", "email"); err != nil {
		t.Fatal(err)
	}
	if err := svc.RecordAdmin(ctx, "ops", "rotate", "e-mail", errors.New("boom")); err != nil {
		t.Fatal(err)
	}
	if err := svc.RecordRefused(ctx, "app", audit.AdminOp("rotate"), "email", "dana", core.ErrNotAdmin); !errors.Is(err, core.ErrNotAdmin) {
		t.Errorf("RecordRefused = %v, want the refusal", err)
	}
	want := []struct {
		op       audit.Op
		class    string
		decision audit.Decision
		reason   string
	}{
		{"admin.rotate", "email", audit.DecisionAllow, core.ReasonIntent},
		{"admin.rotate", "(unknown)", audit.DecisionError, "internal error (details in the sidecar log)"},
		{"admin.rotate", "email", audit.DecisionDeny, core.ErrNotAdmin.Error()},
	}
	got := a.events[len(a.events)-3:]
	for i, w := range want {
		if e := got[i]; e.Op != w.op || e.Class != w.class || e.Decision != w.decision || e.Reason != w.reason {
			t.Errorf("event %d = %s %s %s %q, want %s %s %s %q", i, e.Op, e.Class, e.Decision, e.Reason, w.op, w.class, w.decision, w.reason)
		}
	}
	if got[2].Subject != (testFingerprints{}).Subject("dana") {
		t.Errorf("refusal subject = %q, want dana's fingerprint", got[2].Subject)
	}
	var inv *core.InvalidError
	checks := []struct {
		name string
		err  error
		ok   bool
	}{
		{"CheckClass(email)", svc.CheckClass("email"), true},
		{"CheckClass(e-mail)", svc.CheckClass("e-mail"), false},
		{"CheckPurpose(dsar)", svc.CheckPurpose("dsar"), true},
		{"CheckPurpose(fun)", svc.CheckPurpose("fun"), false},
		{"CheckPurpose()", svc.CheckPurpose(""), false},
	}
	for _, tt := range checks {
		if (tt.err == nil) != tt.ok || (!tt.ok && !errors.As(tt.err, &inv)) {
			t.Errorf("%s = %v, want ok %v (else an InvalidError)", tt.name, tt.err, tt.ok)
		}
	}
}
