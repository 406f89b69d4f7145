package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/internal/devvaulttest"
	"github.com/privacyvault/privacyvault/internal/pgtest"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// fleet is several in-process sidecars sharing keys in one devvault and
// records in one PostgreSQL database, each with its own data directory.
type fleet struct {
	dv  *devvaulttest.DevVault
	dsn string
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	dv := devvaulttest.Start(t)
	t.Setenv("VAULT_TOKEN", dv.Token)
	return &fleet{dv: dv, dsn: pgtest.New(t)}
}

// fleetConfig is the sample config with keys in the fleet's Vault and the
// store on PostgreSQL through dsn.
func (f *fleet) config(t *testing.T, dsn string) []byte {
	t.Helper()
	cfg := string(examples.Config)
	i, j := strings.Index(cfg, "keys:\n"), strings.Index(cfg, "# Data classes:")
	if i < 0 || j < 0 {
		t.Fatal("sample config has no keys section to replace")
	}
	keys := fmt.Sprintf("keys:\n  provider: vault\n  refresh_interval: 1s\n  vault:\n    address: %s\n    create_kek: true\n    kv_prefix: fleet\n    timeout: 2s\n\n", f.dv.Addr)
	dsnFile := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(dsnFile, []byte(dsn), 0o600); err != nil {
		t.Fatal(err)
	}
	st := fmt.Sprintf("store:\n  backend: postgres\n  postgres:\n    dsn_file: %s\n    max_conns: 4\n", dsnFile)
	out := strings.Replace(cfg[:i]+keys+cfg[j:], "store:\n  backend: badger\n", st, 1)
	if !strings.Contains(out, dsnFile) {
		t.Fatal("sample config has no store section to replace")
	}
	return []byte(out)
}

// sidecars starts n sidecars on the fleet's database.
func (f *fleet) sidecars(t *testing.T, n int) []*servertest.Harness {
	t.Helper()
	hs := make([]*servertest.Harness, n)
	for i := range hs {
		hs[i] = servertest.Start(t, servertest.Options{Config: f.config(t, f.dsn)})
	}
	return hs
}

// TestFleetOneTokenSpace: a token made by any sidecar detokenizes and
// looks up on every other, and one deterministic value tokenized on three
// sidecars at once gets one token.
func TestFleetOneTokenSpace(t *testing.T) {
	f := newFleet(t)
	hs := f.sidecars(t, 3)
	ctx := context.Background()
	cards := []string{"4111 1111 1111 1111", "4012 8888 8888 1881", "5555 5555 5555 4444"}
	for i, h := range hs {
		card := cards[i]
		tok := tokenize(t, h.Client(checkout), "card_number", card)
		mail := fmt.Sprintf("made-on-%d@example.com", i)
		mtok := tokenize(t, h.Client(checkout), "email", mail)
		for j, other := range hs {
			c := other.Client(checkout)
			if got, err := c.Detokenize(ctx, "payment", "card_number", tok); err != nil || string(got.Value) != card {
				t.Errorf("sidecar %d: Detokenize(card token from sidecar %d) = %q, %v; want the card", j, i, got.Value, err)
			}
			if got, err := c.Lookup(ctx, "email", []byte(mail)); err != nil || got != mtok {
				t.Errorf("sidecar %d: Lookup(email tokenized on sidecar %d) = %q, %v; want %q", j, i, got, err, mtok)
			}
		}
	}

	const perSidecar = 4
	toks := make([]string, len(hs)*perSidecar)
	errs := make([]error, len(toks))
	var wg sync.WaitGroup
	for k := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[k], errs[k] = hs[k%len(hs)].Client(checkout).Tokenize(ctx, "email", []byte("contended@example.com"))
		}()
	}
	wg.Wait()
	for k := range toks {
		if errs[k] != nil || toks[k] != toks[0] {
			t.Errorf("Tokenize(same email) #%d on sidecar %d = %q, %v; want %q (one token across the fleet)", k, k%len(hs), toks[k], errs[k], toks[0])
		}
	}
}

// TestFleetErasureAndConsent: a consent set on one sidecar is enforced on
// the others, and once EraseSubject returns on one sidecar no sidecar
// returns the subject's values.
func TestFleetErasureAndConsent(t *testing.T) {
	f := newFleet(t)
	hs := f.sidecars(t, 3)
	ctx := context.Background()
	res, err := hs[0].Client(checkout).TokenizeBatch(ctx, []client.TokenizeItem{{Class: "email", Value: []byte("erase-me@example.com"), SubjectID: "subject-17"}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Tokenize(with subject) = %v, %v", res, err)
	}
	tok := res[0].Token
	if _, err := hs[1].Client(checkout).Detokenize(ctx, "marketing", "email", tok); status.Code(err) != codes.PermissionDenied {
		t.Errorf("sidecar 1: Detokenize(marketing) before consent error = %v, want PermissionDenied", err)
	}
	if _, err := hs[0].Client(dpo).SetConsent(ctx, "subject-17", "marketing", "consent", time.Time{}); err != nil {
		t.Fatalf("SetConsent() on sidecar 0 error = %v", err)
	}
	for i, h := range hs {
		if got, err := h.Client(checkout).Detokenize(ctx, "marketing", "email", tok); err != nil || string(got.Value) != "erase-me@example.com" {
			t.Errorf("sidecar %d: Detokenize(marketing) after consent on sidecar 0 = %q, %v; want the value", i, got.Value, err)
		}
	}
	if _, err := hs[2].Client(dpo).RevokeConsent(ctx, "subject-17", "marketing"); err != nil {
		t.Fatalf("RevokeConsent() on sidecar 2 error = %v", err)
	}
	if _, err := hs[0].Client(checkout).Detokenize(ctx, "marketing", "email", tok); status.Code(err) != codes.PermissionDenied {
		t.Errorf("sidecar 0: Detokenize(marketing) after revoke on sidecar 2 error = %v, want PermissionDenied", err)
	}

	if _, err := hs[1].Client(dpo).EraseSubject(ctx, "subject-17"); err != nil {
		t.Fatalf("EraseSubject() on sidecar 1 error = %v", err)
	}
	for i, h := range hs {
		got, err := h.Client(checkout).Detokenize(ctx, "payment", "email", tok)
		if status.Code(err) != codes.NotFound || len(got.Value) != 0 {
			t.Errorf("sidecar %d: Detokenize(erased subject's token) right after erasure = %q, %v; want NotFound", i, got.Value, err)
		}
	}
}

// TestFleetDatabaseOutage: with the database unreachable, calls fail with
// Unavailable (no value, no token), health reports NOT_SERVING, nothing
// names the connection string; service resumes on its own when the
// database returns.
func TestFleetDatabaseOutage(t *testing.T) {
	f := newFleet(t)
	proxy := pgtest.NewProxy(t, f.dsn)
	const password = "s3cret-pg-password-4711"
	dsn := proxy.DSN(password)
	var logs syncBuffer
	h := servertest.Start(t, servertest.Options{Config: f.config(t, dsn), Logs: &logs})
	ctx := context.Background()
	c := h.Client(checkout)
	tok := tokenize(t, c, "card_number", "4111 1111 1111 1111")

	proxy.Down()
	calls := []struct {
		name string
		call func() (string, error)
	}{
		{"Tokenize", func() (string, error) { return c.Tokenize(ctx, "card_number", []byte("4012 8888 8888 1881")) }},
		{"Tokenize deterministic", func() (string, error) { return c.Tokenize(ctx, "email", []byte("outage@example.com")) }},
		{"Detokenize", func() (string, error) {
			r, err := c.Detokenize(ctx, "payment", "card_number", tok)
			return string(r.Value), err
		}},
	}
	for _, tt := range calls {
		got, err := tt.call()
		if status.Code(err) != codes.Unavailable || got != "" {
			t.Errorf("%s with the database down = %q, %v; want Unavailable and nothing", tt.name, got, err)
		}
		for _, secret := range []string{password, dsn} {
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("%s error %q reveals the connection string", tt.name, err)
			}
		}
	}
	waitHealth(t, h, healthpb.HealthCheckResponse_NOT_SERVING, "with the database down")

	proxy.Up()
	waitHealth(t, h, healthpb.HealthCheckResponse_SERVING, "after the database returns")
	if got, err := c.Detokenize(ctx, "payment", "card_number", tok); err != nil || string(got.Value) != "4111 1111 1111 1111" {
		t.Errorf("Detokenize after the outage = %q, %v; want the card", got.Value, err)
	}
	tokenize(t, c, "card_number", "5555 5555 5555 4444")
	if bytes.Contains([]byte(logs.String()), []byte(password)) {
		t.Errorf("server log contains the database password")
	}
}

// TestFleetRotationAndReencryptOnce: a rotation made on one sidecar is
// seen by the other within keys.refresh_interval; a re-encryption job held
// by a live sidecar (its lease) is not run a second time; once that holder
// is gone (its lease expired) another sidecar takes the job over and
// resumes from the saved progress.
func TestFleetRotationAndReencryptOnce(t *testing.T) {
	f := newFleet(t)
	hs := f.sidecars(t, 2)
	ctx := context.Background()
	a, b := hs[0].Client(ops), hs[1].Client(ops)
	cards := []string{"4111 1111 1111 1111", "4012 8888 8888 1881", "5555 5555 5555 4444", "3782 822463 10005", "6011 1111 1111 1117", "3056 9309 0259 04"}
	for range 4 {
		for _, card := range cards {
			tokenize(t, hs[0].Client(checkout), "card_number", card)
		}
	}
	st, err := a.RotateKey(ctx, "card_number")
	if err != nil {
		t.Fatalf("RotateKey() on sidecar 0 error = %v", err)
	}
	target := st.GetCurrentVersion()
	deadline := time.Now().Add(30 * time.Second)
	for {
		all, err := b.KeyStatus(ctx)
		if err != nil {
			t.Fatalf("KeyStatus() on sidecar 1 error = %v", err)
		}
		if currentVersion(all, "card_number") == target {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sidecar 1 still at version %d of card_number 30s after the rotation on sidecar 0 (refresh_interval 1s), want %d", currentVersion(all, "card_number"), target)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A holder that is gone mid-job: its saved progress is past half the
	// records, its lease still live.
	conn := f.conn(t)
	var ids [][]byte
	rows, err := conn.Query(ctx, `SELECT id FROM pv_records WHERE class = 'card_number' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if rows.Err() != nil || len(ids) != 4*len(cards) {
		t.Fatalf("card_number records = %d, %v; want %d", len(ids), rows.Err(), 4*len(cards))
	}
	half := len(ids) / 2
	saved, _ := json.Marshal(core.ReencryptStatus{Class: "card_number", Target: target, State: core.JobRunning, Total: uint64(len(ids)),
		Scanned: uint64(half), Cursor: ids[half-1], Started: time.Now().UTC(), Updated: time.Now().UTC()})
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO pv_meta (name, value) VALUES ('reencrypt/card_number', $1)`, saved)
	exec(`INSERT INTO pv_leases (name, holder, expires_at) VALUES ('reencrypt/card_number', 'crashed-sidecar', 9000000000000000000)`)
	moved := func() int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pv_records WHERE class = 'card_number' AND key_version = $1`, int64(target)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	job, err := b.StartReencrypt(ctx, "card_number")
	if err != nil || job.GetState() != pb.ReencryptJob_STATE_RUNNING || job.GetScanned() != uint64(half) {
		t.Fatalf("StartReencrypt() on sidecar 1 while another holds the job = %v, %v; want its running status", job, err)
	}
	if n := moved(); n != 0 {
		t.Fatalf("%d records moved while the job's lease is held elsewhere, want 0 (the job runs once)", n)
	}

	exec(`UPDATE pv_leases SET expires_at = 0 WHERE name = 'reencrypt/card_number'`)
	if _, err := b.StartReencrypt(ctx, "card_number"); err != nil {
		t.Fatalf("StartReencrypt() on sidecar 1 after the holder's lease expired error = %v", err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		job, err = a.Reencrypt(ctx, "card_number")
		if err == nil && job.GetState() == pb.ReencryptJob_STATE_DONE {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("re-encryption job taken over by sidecar 1 = %v, %v; want done within 60s", job, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := moved(); n != len(ids)-half {
		t.Errorf("records moved by the job taken over = %d, want %d (resumed after the saved cursor)", n, len(ids)-half)
	}
	if job.GetScanned() != uint64(len(ids)) {
		t.Errorf("job scanned = %d, want %d (saved progress plus the rest)", job.GetScanned(), len(ids))
	}
}

func currentVersion(all []*pb.ClassKeyStatus, class string) uint32 {
	for _, c := range all {
		if c.GetClass() == class {
			return c.GetCurrentVersion()
		}
	}
	return 0
}

// conn connects to the fleet's database directly, to stage a crashed
// sidecar's state.
func (f *fleet) conn(t *testing.T) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// TestFleetPurgeOnce: the retention purge run from every sidecar at once
// deletes each expired record once in all.
func TestFleetPurgeOnce(t *testing.T) {
	f := newFleet(t)
	hs := f.sidecars(t, 2)
	ctx := context.Background()
	const n = 40
	items := make([]client.TokenizeItem, n)
	for i := range items {
		items[i] = client.TokenizeItem{Class: "email", Value: []byte(fmt.Sprintf("short-lived-%d@example.com", i)), TTL: time.Second}
	}
	res, err := hs[0].Client(checkout).TokenizeBatch(ctx, items)
	if err != nil {
		t.Fatalf("TokenizeBatch(ttl 1s) error = %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := hs[1].Client(checkout).Detokenize(ctx, "payment", "email", res[n-1].Token)
		if status.Code(err) == codes.NotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("token with a 1s TTL still resolves after 30s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	counts := make([]map[string]uint64, len(hs))
	errs := make([]error, len(hs))
	var wg sync.WaitGroup
	for i, h := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], errs[i] = h.Client(ops).PurgeExpired(ctx)
		}()
	}
	wg.Wait()
	total := uint64(0)
	for i := range hs {
		if errs[i] != nil {
			t.Fatalf("PurgeExpired() on sidecar %d error = %v", i, errs[i])
		}
		total += counts[i]["email"]
	}
	if total != n {
		t.Errorf("PurgeExpired() on both sidecars deleted %d + %d email records, want %d in all", counts[0]["email"], counts[1]["email"], n)
	}
}
