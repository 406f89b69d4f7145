package server_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	"github.com/privacyvault/privacyvault/server/servertest"
	"github.com/privacyvault/privacyvault/store/badger"
	"github.com/privacyvault/privacyvault/store/postgres"
)

// checkRemainsSigned checks that receipt states want as what remains, that
// the statement is covered by the signature (through the canonical JSON
// the CLI writes), and that altering it breaks the signature.
func checkRemainsSigned(t *testing.T, receipt *pb.ErasureReceipt, want string, v audit.Verifier) {
	t.Helper()
	if receipt.GetRemains() != want {
		t.Errorf("receipt (%s) remains = %q, want %q", receipt.GetKind(), receipt.GetRemains(), want)
	}
	b, err := audit.MarshalReceipt(receiptOfPB(receipt))
	if err != nil {
		t.Fatal(err)
	}
	r, err := audit.ParseReceipt(b)
	if err != nil {
		t.Fatalf("ParseReceipt(canonical receipt) error = %v", err)
	}
	if err := audit.VerifyReceipt(r, v); err != nil {
		t.Errorf("VerifyReceipt(receipt with remains) = %v, want nil", err)
	}
	r.Remains = "nothing remains"
	if err := audit.VerifyReceipt(r, v); err == nil {
		t.Error("VerifyReceipt(remains altered) = nil, want a signature error")
	}
}

// TestEraseSubjectReceiptRemainsBadger: on the embedded store the receipt
// states Badger's residue (snapshots and backups only), signed.
func TestEraseSubjectReceiptRemainsBadger(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	ctx := context.Background()
	res, err := h.Client(checkout).TokenizeBatch(ctx, []client.TokenizeItem{{Class: "email", Value: []byte("rem@example.com"), SubjectID: "subject-rem"}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Tokenize(with subject) = %v, %v", res, err)
	}
	receipt, err := h.Client(dpo).EraseSubject(ctx, "subject-rem")
	if err != nil {
		t.Fatalf("EraseSubject() error = %v", err)
	}
	if receipt.GetRecords() != 1 || receipt.GetSubjectKeys() != 1 {
		t.Errorf("EraseSubject() receipt = %d records, %d subject keys; want 1, 1", receipt.GetRecords(), receipt.GetSubjectKeys())
	}
	checkRemainsSigned(t, receipt, badger.ErasureRemains, loadPub(t, dir))
}

// TestEraseSubjectPostgresTables: after EraseSubject through one sidecar
// of a fleet, the subject's rows are gone from pv_records,
// pv_subject_keys and pv_consents (looked up in the database itself), the
// receipt counts them, and it states PostgreSQL's residue (dead tuples,
// WAL, backups), signed. Another subject's rows stay.
func TestEraseSubjectPostgresTables(t *testing.T) {
	f := newFleet(t)
	hs := f.sidecars(t, 2)
	ctx := context.Background()
	items := []client.TokenizeItem{
		{Class: "email", Value: []byte("pg-erase@example.com"), SubjectID: "subject-pg"},
		{Class: "card_number", Value: []byte("4111 1111 1111 1111"), SubjectID: "subject-pg"},
		{Class: "email", Value: []byte("pg-keep@example.com"), SubjectID: "subject-keep"},
	}
	res, err := hs[0].Client(checkout).TokenizeBatch(ctx, items)
	if err != nil {
		t.Fatalf("TokenizeBatch() error = %v", err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("TokenizeBatch() item %d error = %v", i, r.Err)
		}
	}
	if _, err := hs[0].Client(dpo).SetConsent(ctx, "subject-pg", "marketing", "consent", time.Time{}); err != nil {
		t.Fatalf("SetConsent() error = %v", err)
	}
	conn, err := pgx.Connect(ctx, f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	tables := []string{"pv_records", "pv_subject_keys", "pv_consents"}
	before := map[string]int{}
	for _, table := range tables {
		before[table] = count(`SELECT count(*) FROM ` + table + ` WHERE subject IS NOT NULL`)
	}
	if before["pv_records"] != 3 || before["pv_subject_keys"] < 3 || before["pv_consents"] != 1 {
		t.Fatalf("rows before erasure = %v, want 3 records, 3 or more subject keys, 1 consent", before)
	}

	receipt, err := hs[1].Client(dpo).EraseSubject(ctx, "subject-pg")
	if err != nil {
		t.Fatalf("EraseSubject() on sidecar 1 error = %v", err)
	}
	fp := []byte(receipt.GetSubjectFp())
	for _, table := range tables {
		if n := count(`SELECT count(*) FROM `+table+` WHERE subject = $1`, fp); n != 0 {
			t.Errorf("%s rows of the erased subject = %d, want 0", table, n)
		}
	}
	after := map[string]int{}
	for _, table := range tables {
		after[table] = count(`SELECT count(*) FROM ` + table + ` WHERE subject IS NOT NULL`)
	}
	got := []int{int(receipt.GetRecords()), int(receipt.GetSubjectKeys()), int(receipt.GetConsents())}
	want := []int{before["pv_records"] - after["pv_records"], before["pv_subject_keys"] - after["pv_subject_keys"], before["pv_consents"] - after["pv_consents"]}
	if got[0] != 2 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("receipt counts (records, subject keys, consents) = %v, want %v rows deleted (2 records)", got, want)
	}
	if after["pv_records"] != 1 {
		t.Errorf("records left = %d, want 1 (the other subject's)", after["pv_records"])
	}
	if v, err := hs[0].Client(checkout).Detokenize(ctx, "payment", "email", res[2].Token); err != nil || string(v.Value) != "pg-keep@example.com" {
		t.Errorf("Detokenize(other subject's token) = %q, %v; want its value", v.Value, err)
	}
	// The fleet signs with Vault Transit; its verification keys are
	// exported next to the data at start.
	v, err := audit.LoadEd25519Verifier(filepath.Join(hs[1].DataDir, "audit-verification-keys.pem"))
	if err != nil {
		t.Fatal(err)
	}
	checkRemainsSigned(t, receipt, postgres.ErasureRemains, v)
	for _, word := range []string{"dead tuples", "VACUUM", "WAL", "backups", "Vault"} {
		if !strings.Contains(receipt.GetRemains(), word) {
			t.Errorf("receipt remains = %q, want it to mention %q", receipt.GetRemains(), word)
		}
	}
}

// deleteTokens tokenizes a value without a subject and one with, deletes
// both tokens through gRPC and checks each receipt's signed statement of
// what remains: want[false] without a subject, want[true] with one.
func deleteTokens(t *testing.T, h *servertest.Harness, want map[bool]string, v audit.Verifier) {
	t.Helper()
	ctx := context.Background()
	res, err := h.Client(checkout).TokenizeBatch(ctx, []client.TokenizeItem{
		{Class: "card_number", Value: []byte("4111 1111 1111 1111")},
		{Class: "email", Value: []byte("del@example.com"), SubjectID: "subject-del"},
	})
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("TokenizeBatch() = %v, %v", res, err)
	}
	for i, tt := range []struct {
		class   string
		subject bool
	}{{"card_number", false}, {"email", true}} {
		receipt, err := h.Client(dpo).DeleteToken(ctx, tt.class, res[i].Token)
		if err != nil {
			t.Fatalf("DeleteToken(%s) error = %v", tt.class, err)
		}
		checkRemainsSigned(t, receipt, want[tt.subject], v)
		again, err := h.Client(dpo).DeleteToken(ctx, tt.class, res[i].Token)
		if err != nil || again.GetRemains() != want[tt.subject] {
			t.Errorf("DeleteToken(%s) again = remains %q, %v; want the stored receipt's statement", tt.class, again.GetRemains(), err)
		}
	}
}

// TestDeleteTokenReceiptRemainsBadger: a deletion receipt on the embedded
// store states Badger's residue, signed, with or without a subject.
func TestDeleteTokenReceiptRemainsBadger(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	deleteTokens(t, h, map[bool]string{false: badger.DeletionRemains, true: badger.DeletionRemainsSubject}, loadPub(t, dir))
}

// TestDeleteTokenReceiptRemainsPostgres: a deletion receipt on the
// PostgreSQL store states its residue (dead tuples, WAL, backups), signed.
func TestDeleteTokenReceiptRemainsPostgres(t *testing.T) {
	f := newFleet(t)
	h := f.sidecars(t, 1)[0]
	v, err := audit.LoadEd25519Verifier(filepath.Join(h.DataDir, "audit-verification-keys.pem"))
	if err != nil {
		t.Fatal(err)
	}
	deleteTokens(t, h, map[bool]string{false: postgres.DeletionRemains, true: postgres.DeletionRemainsSubject}, v)
}
