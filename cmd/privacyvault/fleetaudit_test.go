package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/internal/devvaulttest"
	"github.com/privacyvault/privacyvault/internal/pgtest"
)

// TestFleetAuditCLI: two sidecar processes with audit.sink postgres and
// default instance ids; a sidecar stopped and started again continues its
// chain; audit verify and audit subject, run against either sidecar,
// cover both chains; a byte changed in the database is reported TAMPERED
// naming the instance.
func TestFleetAuditCLI(t *testing.T) {
	dv := devvaulttest.Start(t)
	t.Setenv("VAULT_TOKEN", dv.Token)
	dsn := pgtest.New(t)
	cfg := fleetConfig(t, dv.Addr, dsn)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const old = "audit:\n  checkpoint_every: 1000\n"
	if !strings.Contains(string(b), old) {
		t.Fatal("sample config has no audit section to replace")
	}
	b = []byte(strings.Replace(string(b), old, "audit:\n  checkpoint_every: 3\n  sink: postgres\n", 1))
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	a := startSidecar(t, "--dev", "--config", cfg, "--data-dir", dirA)
	sb := startSidecar(t, "--dev", "--config", cfg, "--data-dir", dirB)
	ctx := context.Background()
	res, err := dial(t, a.addr).TokenizeBatch(ctx, []client.TokenizeItem{{Class: "email", Value: []byte("cli-fleet@example.com"), SubjectID: "cust-fleet"}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Tokenize on sidecar A = %v, %v", res, err)
	}
	if got, err := dial(t, sb.addr).Detokenize(ctx, "payment", "email", res[0].Token); err != nil || string(got.Value) != "cli-fleet@example.com" {
		t.Fatalf("Detokenize on sidecar B = %q, %v", got.Value, err)
	}
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.cmd.Wait()
	a = startSidecar(t, "--dev", "--config", cfg, "--data-dir", dirA)
	for _, v := range []string{"again-1@example.com", "again-2@example.com", "again-3@example.com", "again-4@example.com"} {
		if _, err := dial(t, a.addr).Tokenize(ctx, "email", []byte(v)); err != nil {
			t.Fatalf("Tokenize on sidecar A after its restart error = %v", err)
		}
	}
	id := func(dir string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "audit-instance-id"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	idA, idB := id(dirA), id(dirB)

	code, out := cli(t, tokOps, "audit", "verify", "--addr", sb.addr)
	if code != 0 || !strings.Contains(out, "2 instance chains") || !strings.Contains(out, idA) || !strings.Contains(out, idB) {
		t.Errorf("audit verify on B = %d, %q; want 0 listing 2 chains (%s, %s)", code, out, idA, idB)
	}
	code, out = cli(t, tokOps, "audit", "subject", "cust-fleet", "--addr", a.addr)
	if code != 0 || !strings.Contains(out, idA) || !strings.Contains(out, idB) || !strings.Contains(out, "detokenize") {
		t.Errorf("audit subject on A = %d, %q; want accesses on both instances", code, out)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tag, err := conn.Exec(ctx, `UPDATE pv_audit_records SET line = replace(line, '"caller":"', '"caller":"x') WHERE instance = $1 AND pos = 1`, idA)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("tampering with A's chain: %v, %d rows", err, tag.RowsAffected())
	}
	code, out = cli(t, tokOps, "audit", "verify", "--addr", sb.addr)
	if code != exitTampered || !strings.Contains(out, "TAMPERED") || !strings.Contains(out, idA) {
		t.Errorf("audit verify after tampering = %d, %q; want %d TAMPERED naming %s", code, out, exitTampered, idA)
	}
}
