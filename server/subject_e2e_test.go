package server_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
	"github.com/privacyvault/privacyvault/store/badger"
)

const dpo = "dev-dpo-token-00000005"

type subjectData struct {
	class, value, token string
}

// tokenizeFor tokenizes values for subject and returns them with tokens.
func tokenizeFor(t *testing.T, c *client.Client, subject string, items ...subjectData) []subjectData {
	t.Helper()
	req := make([]client.TokenizeItem, len(items))
	for i, it := range items {
		req[i] = client.TokenizeItem{Class: it.class, Value: []byte(it.value), SubjectID: subject}
	}
	res, err := c.TokenizeBatch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		if res[i].Err != nil {
			t.Fatalf("Tokenize(%s for %s) = %v", items[i].class, subject, res[i].Err)
		}
		items[i].token = res[i].Token
	}
	return items
}

func detokenizeFor(c *client.Client, subject string, d subjectData) (string, error) {
	res, err := c.DetokenizeBatch(context.Background(), "payment", []client.DetokenizeItem{{Class: d.class, Token: d.token, SubjectID: subject}})
	if err != nil {
		return "", err
	}
	return string(res[0].Value), res[0].Err
}

// TestSubjectLifecycle: export returns exactly the subject's data;
// rectify changes the value and keeps the token; erase shreds every token
// of the subject (vaulted and shred_with_subject fpe), leaves others alone,
// survives a restart and returns a receipt that verifies.
func TestSubjectLifecycle(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	app, officer := h.Client(checkout), h.Client(dpo)
	ctx := context.Background()
	alice := tokenizeFor(t, app, "alice",
		subjectData{class: "email", value: "alice@example.com"},
		subjectData{class: "card_number", value: "4111111111111111"},
		subjectData{class: "member_number", value: "00123456789"})
	bob := tokenizeFor(t, app, "bob",
		subjectData{class: "email", value: "bob@example.com"},
		subjectData{class: "member_number", value: "00123456789"})
	if alice[2].token == bob[1].token {
		t.Errorf("shred_with_subject tokens of one value for two subjects are equal (%q); want per-subject tweaks", alice[2].token)
	}

	exp, err := officer.ExportSubject(ctx, "alice")
	if err != nil {
		t.Fatalf("ExportSubject(alice) error = %v", err)
	}
	got := map[string]string{}
	for _, tok := range exp {
		got[tok.GetToken()] = string(tok.GetValue())
	}
	want := map[string]string{alice[0].token: alice[0].value, alice[1].token: alice[1].value}
	if len(got) != len(want) || got[alice[0].token] != alice[0].value || got[alice[1].token] != alice[1].value {
		t.Errorf("ExportSubject(alice) = %v, want exactly %v (stored tokens only)", got, want)
	}
	if _, err := app.ExportSubject(ctx, "alice"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("ExportSubject by a non-manager = %v, want PermissionDenied", err)
	}

	if err := officer.RectifyToken(ctx, "email", alice[0].token, []byte("alice.new@example.com")); err != nil {
		t.Fatalf("RectifyToken() error = %v", err)
	}
	if v, err := detokenizeFor(app, "alice", alice[0]); err != nil || v != "alice.new@example.com" {
		t.Errorf("after rectify Detokenize(same token) = %q, %v; want the new value", v, err)
	}
	alice[0].value = "alice.new@example.com"

	receipt, err := officer.EraseSubject(ctx, "alice")
	if err != nil {
		t.Fatalf("EraseSubject(alice) error = %v", err)
	}
	if receipt.GetRecords() != 2 || receipt.GetSubjectKeys() != 3 || len(receipt.GetSignature()) == 0 {
		t.Errorf("receipt = %v, want 2 records, 3 subject keys (email, card_number, member_number), signed", receipt)
	}
	check := func(stage string) {
		t.Helper()
		for _, d := range alice {
			if _, err := detokenizeFor(app, "alice", d); status.Code(err) != codes.NotFound {
				t.Errorf("%s: Detokenize(alice's %s) = %v, want NotFound", stage, d.class, err)
			}
		}
		for _, d := range bob {
			if v, err := detokenizeFor(app, "bob", d); err != nil || v != d.value {
				t.Errorf("%s: Detokenize(bob's %s) = %q, %v; want %q", stage, d.class, v, err, d.value)
			}
		}
	}
	check("after erase")
	h.Stop()
	h = servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	app = h.Client(checkout)
	check("after restart")

	r := receiptOfPB(receipt)
	v, err := audit.LoadEd25519Verifier(filepath.Join(dir, "audit-signing.key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.VerifyReceipt(r, v); err != nil {
		t.Errorf("VerifyReceipt(erasure receipt) = %v, want nil", err)
	}
	r.Records++
	if err := audit.VerifyReceipt(r, v); err == nil {
		t.Error("VerifyReceipt(altered receipt) = nil, want an error")
	}
}

// filesContaining returns the files under dir whose bytes contain needle.
func filesContaining(t *testing.T, dir string, needle []byte) []string {
	t.Helper()
	var hits []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, needle) {
			hits = append(hits, filepath.Base(path))
		}
		return nil
	})
	return hits
}

// TestEncryptionAtRestAndShredding scans the raw Badger files: no value is
// ever stored in the clear, and after erasure the subject's wrapped keys
// and ciphertexts are gone from disk.
func TestEncryptionAtRestAndShredding(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	app := h.Client(checkout)
	carol := tokenizeFor(t, app, "carol",
		subjectData{class: "email", value: "carol.unique.marker@example.com"},
		subjectData{class: "name", value: "Carol Uniquename Marker"})
	tokenizeFor(t, app, "", subjectData{class: "card_number", value: "6011000990139424"})
	h.Stop()

	storeDir := filepath.Join(dir, "store")
	for _, v := range []string{"carol.unique.marker@example.com", "Carol Uniquename Marker", "6011000990139424"} {
		if hits := filesContaining(t, storeDir, []byte(v)); len(hits) > 0 {
			t.Errorf("plaintext %q found on disk in %v", v, hits)
		}
	}

	// Collect what erasure must remove: the subject's ciphertexts and
	// wrapped keys, read straight from the store.
	st, err := badger.Open(badger.Options{Dir: storeDir})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := st.SubjectRecords(context.Background(), subjectOf(t, st, carol[0]))
	if err != nil || len(recs) != 2 {
		t.Fatalf("SubjectRecords(carol) = %d, %v", len(recs), err)
	}
	var secrets [][]byte
	for _, r := range recs {
		secrets = append(secrets, r.Ciphertext)
		k, err := st.SubjectKey(context.Background(), r.Subject, r.Class)
		if err != nil {
			t.Fatal(err)
		}
		// The random part only: the store compresses its tables, and the
		// 4-byte version prefix of a wrapped key may be encoded as a
		// back-reference to an equal sequence elsewhere in the block.
		secrets = append(secrets, k[4:])
	}
	st.Close()
	for i, s := range secrets {
		if hits := filesContaining(t, storeDir, s); len(hits) == 0 {
			t.Fatalf("secret %d not found on disk before erasure; the scan would prove nothing", i)
		}
	}

	h = servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	if _, err := h.Client(dpo).EraseSubject(context.Background(), "carol"); err != nil {
		t.Fatalf("EraseSubject(carol) error = %v", err)
	}
	h.Stop()
	for i, s := range secrets {
		if hits := filesContaining(t, storeDir, s); len(hits) > 0 {
			t.Errorf("after erasure and GC, secret %d (ciphertext or wrapped subject key) still on disk in %v", i, hits)
		}
	}
}

// subjectOf reads the subject fingerprint stored with d's record.
func subjectOf(t *testing.T, st *badger.Store, d subjectData) []byte {
	t.Helper()
	page, err := st.Scan(context.Background(), d.class, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page {
		if r.Subject != nil {
			return r.Subject
		}
	}
	t.Fatalf("no subject-linked %s record", d.class)
	return nil
}

// TestRetention: a token past its TTL is unreadable before the purge runs
// (NotFound with reason TOKEN_EXPIRED), and gone after.
func TestRetention(t *testing.T) {
	clock := servertest.NewClock()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, Clock: clock})
	app, ops := h.Client(checkout), h.Client(ops)
	res, err := app.TokenizeBatch(context.Background(), []client.TokenizeItem{
		{Class: "card_number", Value: []byte("4111111111111111"), TTL: time.Second},
		{Class: "card_number", Value: []byte("5500005555555559")},
		{Class: "card_number", Value: []byte("4000056655665556"), TTL: 500 * 24 * time.Hour},
	})
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("TokenizeBatch() = %v, %v", res, err)
	}
	if status.Code(res[2].Err) != codes.InvalidArgument {
		t.Errorf("Tokenize(ttl longer than the class retention) = %v, want InvalidArgument", res[2].Err)
	}
	clock.Advance(1100 * time.Millisecond)
	_, err = app.Detokenize(context.Background(), "payment", "card_number", res[0].Token)
	if status.Code(err) != codes.NotFound || !hasReason(err, "TOKEN_EXPIRED") {
		t.Errorf("Detokenize(expired) = %v, want NotFound with reason TOKEN_EXPIRED", err)
	}
	if got := recordsOf(t, ops, "card_number"); got != 2 {
		t.Errorf("records before purge = %d, want 2 (expired but not yet purged)", got)
	}
	n, err := ops.PurgeExpired(context.Background())
	if err != nil || n["card_number"] != 1 {
		t.Errorf("PurgeExpired() = %v, %v; want card_number: 1", n, err)
	}
	if got := recordsOf(t, ops, "card_number"); got != 1 {
		t.Errorf("records after purge = %d, want 1", got)
	}
	if _, err := app.Detokenize(context.Background(), "payment", "card_number", res[1].Token); err != nil {
		t.Errorf("Detokenize(unexpired) after purge = %v", err)
	}
}

// TestRetentionDeterministicAgain: tokenizing a deterministic value again
// once its token has expired, before the purge runs, gives a new token
// that resolves, not the expired one; the expired token stays NotFound.
func TestRetentionDeterministicAgain(t *testing.T) {
	clock := servertest.NewClock()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, Clock: clock})
	app := h.Client(checkout)
	ctx := context.Background()
	value := []byte("ada@example.com")
	first, err := app.TokenizeBatch(ctx, []client.TokenizeItem{{Class: "email", Value: value, TTL: time.Second}})
	if err != nil || first[0].Err != nil {
		t.Fatalf("TokenizeBatch(ttl 1s) = %v, %v", first, err)
	}
	clock.Advance(1100 * time.Millisecond)
	again, err := app.TokenizeBatch(ctx, []client.TokenizeItem{{Class: "email", Value: value}})
	if err != nil || again[0].Err != nil {
		t.Fatalf("TokenizeBatch(again) = %v, %v", again, err)
	}
	if again[0].Token == first[0].Token {
		t.Fatalf("Tokenize(after expiry) = the expired token, want a new one")
	}
	got, err := app.Detokenize(ctx, "payment", "email", again[0].Token)
	if err != nil || string(got.Value) != string(value) {
		t.Errorf("Detokenize(new token) = %q, %v; want the value", got.Value, err)
	}
	_, err = app.Detokenize(ctx, "payment", "email", first[0].Token)
	if status.Code(err) != codes.NotFound {
		t.Errorf("Detokenize(expired token) = %v, want NotFound", err)
	}
	single, err := app.Tokenize(ctx, "email", value)
	if err != nil || single != again[0].Token {
		t.Errorf("Tokenize(third time) = %v, want the new token", err)
	}
}

func hasReason(err error, reason string) bool {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == reason {
			return true
		}
	}
	return false
}

func recordsOf(t *testing.T, c *client.Client, class string) uint64 {
	t.Helper()
	st, err := c.KeyStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, cs := range st {
		if cs.GetClass() == class {
			for _, v := range cs.GetVersions() {
				n += v.GetRecords()
			}
		}
	}
	return n
}
