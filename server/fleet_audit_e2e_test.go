package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/audit/pgsink"
	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/internal/pgtest"
	"github.com/privacyvault/privacyvault/server"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// auditConfig is the fleet config with audit.sink postgres and the chain
// named instance.
func (f *fleet) auditConfig(t *testing.T, dsn, instance string) []byte {
	t.Helper()
	cfg := f.config(t, dsn)
	const old = "audit:\n  checkpoint_every: 1000\n"
	if !bytes.Contains(cfg, []byte(old)) {
		t.Fatal("sample config has no audit section to replace")
	}
	return bytes.Replace(cfg, []byte(old), fmt.Appendf(nil, "audit:\n  checkpoint_every: 4\n  sink: postgres\n  instance_id: %s\n", instance), 1)
}

// chainOps returns the ops of the events in each instance's chain, read
// from the database.
func (f *fleet) chainOps(t *testing.T) map[string][]string {
	t.Helper()
	rows, err := f.conn(t).Query(context.Background(), `SELECT instance, line FROM pv_audit_records ORDER BY instance, pos`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var inst, line string
		if err := rows.Scan(&inst, &line); err != nil {
			t.Fatal(err)
		}
		var ev struct{ Op string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("record of %s is not JSON: %v", inst, err)
		}
		if ev.Op != "" {
			out[inst] = append(out[inst], ev.Op)
		}
	}
	return out
}

// TestFleetAuditChains: two sidecars on one database with audit.sink
// postgres each keep their own chain; verify checks both and names the
// instance whose chain was tampered with; the subject report and the tail
// cover both sidecars.
func TestFleetAuditChains(t *testing.T) {
	f := newFleet(t)
	a := servertest.Start(t, servertest.Options{Config: f.auditConfig(t, f.dsn, "sidecar-a")})
	b := servertest.Start(t, servertest.Options{Config: f.auditConfig(t, f.dsn, "sidecar-b")})
	ctx := context.Background()

	res, err := a.Client(checkout).TokenizeBatch(ctx, []client.TokenizeItem{{Class: "email", Value: []byte("fleet-audit@example.com"), SubjectID: "subject-fleet"}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Tokenize(with subject) on sidecar a = %v, %v", res, err)
	}
	if got, err := b.Client(checkout).Detokenize(ctx, "payment", "email", res[0].Token); err != nil || string(got.Value) != "fleet-audit@example.com" {
		t.Fatalf("Detokenize on sidecar b = %q, %v; want the value", got.Value, err)
	}
	chains := f.chainOps(t)
	for _, tt := range []struct{ instance, op string }{{"sidecar-a", "tokenize"}, {"sidecar-b", "detokenize"}} {
		if !strings.Contains(strings.Join(chains[tt.instance], " "), tt.op) {
			t.Errorf("chain of %s holds ops %v, want a %s event", tt.instance, chains[tt.instance], tt.op)
		}
	}
	if strings.Contains(strings.Join(chains["sidecar-a"], " "), "detokenize") {
		t.Errorf("chain of sidecar-a holds a detokenize event (made on sidecar-b): %v", chains["sidecar-a"])
	}

	acc, err := b.Client(ops).SubjectAccessReport(ctx, "subject-fleet")
	if err != nil {
		t.Fatalf("SubjectAccessReport() on sidecar b error = %v", err)
	}
	seen := map[string]string{}
	for _, x := range acc {
		seen[x.GetInstance()] += x.GetOp() + " "
	}
	if !strings.Contains(seen["sidecar-a"], "tokenize") || !strings.Contains(seen["sidecar-b"], "detokenize") {
		t.Errorf("SubjectAccessReport(subject-fleet) by instance = %v, want tokenize on sidecar-a and detokenize on sidecar-b", seen)
	}

	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tailed := map[string]int{}
	errDone := errors.New("both chains seen")
	err = a.Client(ops).TailAuditChains(tctx, 0, func(instance, line string) error {
		if !json.Valid([]byte(line)) {
			return fmt.Errorf("tail line of %s is not JSON: %q", instance, line)
		}
		tailed[instance]++
		if tailed["sidecar-a"] > 0 && tailed["sidecar-b"] > 0 {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) && !strings.Contains(fmt.Sprint(err), errDone.Error()) {
		t.Errorf("TailAudit on sidecar a = %v after %v records by instance; want records of both sidecars", err, tailed)
	}

	// Past checkpoint_every (4) on both chains; the writer commits a due
	// checkpoint before it answers the next call.
	for i := range 6 {
		tokenize(t, a.Client(checkout), "card_number", "4111 1111 1111 1111")
		tokenize(t, b.Client(checkout), "email", fmt.Sprintf("more-%d@example.com", i))
	}
	v, err := a.Client(ops).VerifyAudit(ctx)
	if err != nil || !v.GetOk() || len(v.GetChains()) != 2 {
		t.Fatalf("VerifyAudit() of the fleet = %v, %v; want ok with 2 chains", v, err)
	}
	for _, c := range v.GetChains() {
		if !c.GetOk() || c.GetEvents() == 0 || c.GetCheckpoints() == 0 {
			t.Errorf("chain %s = %v; want ok with events and a checkpoint", c.GetInstance(), c)
		}
	}

	// Flip one byte of an event in sidecar-b's chain.
	tag, err := f.conn(t).Exec(ctx, `UPDATE pv_audit_records SET line = replace(line, '"count":1,', '"count":7,')
WHERE instance = 'sidecar-b' AND pos = (SELECT min(pos) FROM pv_audit_records WHERE instance = 'sidecar-b' AND line LIKE '%"op":"detokenize"%')`)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("tampering with sidecar-b's chain: %v, %v rows", err, tag.RowsAffected())
	}
	v, err = a.Client(ops).VerifyAudit(ctx)
	if err != nil {
		t.Fatalf("VerifyAudit() after tampering error = %v", err)
	}
	if v.GetOk() || v.GetInstance() != "sidecar-b" || v.GetKind() != "edited" || !strings.Contains(v.GetMessage(), "sidecar-b") {
		t.Errorf("VerifyAudit() after tampering = ok %v, instance %q, kind %q, message %q; want not ok, sidecar-b, edited, naming sidecar-b",
			v.GetOk(), v.GetInstance(), v.GetKind(), v.GetMessage())
	}
	for _, c := range v.GetChains() {
		if want := c.GetInstance() == "sidecar-a"; c.GetOk() != want {
			t.Errorf("chain %s ok = %v after tampering with sidecar-b's, want %v", c.GetInstance(), c.GetOk(), want)
		}
	}
}

// TestFleetAuditRecordsAndEventsOneTransaction: with audit.sink postgres a
// tokenize call whose events cannot be written stores no record (the
// records and events commit together), and the chain continues across a
// restart.
func TestFleetAuditRecordsAndEventsOneTransaction(t *testing.T) {
	f := newFleet(t)
	var fail atomic.Bool
	cfg := f.auditConfig(t, f.dsn, "sidecar-tx")
	h := servertest.Start(t, servertest.Options{Config: cfg, AuditHook: func(next core.Auditor) core.Auditor {
		return failingAuditor{next: next, fail: &fail}
	}})
	ctx := context.Background()
	records := func() int {
		t.Helper()
		var n int
		if err := f.conn(t).QueryRow(ctx, `SELECT count(*) FROM pv_records`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	tokenize(t, h.Client(checkout), "card_number", "4111 1111 1111 1111")
	before := records()
	fail.Store(true)
	for _, tt := range []struct{ class, value string }{{"card_number", "4012 8888 8888 1881"}, {"email", "no-event@example.com"}} {
		if tok, err := h.Client(checkout).Tokenize(ctx, tt.class, []byte(tt.value)); status.Code(err) != codes.Unavailable || tok != "" {
			t.Errorf("Tokenize(%s) with audit writes failing = %q, %v; want Unavailable", tt.class, tok, err)
		}
	}
	if n := records(); n != before {
		t.Errorf("records after refused tokenize calls = %d, want %d (nothing stored without its event)", n, before)
	}
	fail.Store(false)
	tokenize(t, h.Client(checkout), "email", "after@example.com")

	dir := h.DataDir
	h.Stop()
	h = servertest.Start(t, servertest.Options{Config: cfg, DataDir: dir})
	tokenize(t, h.Client(checkout), "email", "restarted@example.com")
	v, err := h.Client(ops).VerifyAudit(ctx)
	if err != nil || !v.GetOk() || len(v.GetChains()) != 1 {
		t.Fatalf("VerifyAudit() after a restart = %v, %v; want one ok chain (continued)", v, err)
	}
}

// TestFleetAuditDatabaseDown: with audit.sink postgres and the database
// unreachable, tokenize and detokenize fail Unavailable and health is
// NOT_SERVING; once it returns the sidecar serves again, every stored
// record has its tokenize event, and the chain verifies.
func TestFleetAuditDatabaseDown(t *testing.T) {
	f := newFleet(t)
	proxy := pgtest.NewProxy(t, f.dsn)
	h := servertest.Start(t, servertest.Options{Config: f.auditConfig(t, proxy.DSN("pw"), "sidecar-down")})
	ctx := context.Background()
	c := h.Client(checkout)
	tok := tokenize(t, c, "card_number", "4111 1111 1111 1111")

	proxy.Down()
	if got, err := c.Tokenize(ctx, "card_number", []byte("4012 8888 8888 1881")); status.Code(err) != codes.Unavailable || got != "" {
		t.Errorf("Tokenize with the database down = %q, %v; want Unavailable", got, err)
	}
	if got, err := c.Detokenize(ctx, "payment", "card_number", tok); status.Code(err) != codes.Unavailable || len(got.Value) != 0 {
		t.Errorf("Detokenize with the database down = %q, %v; want Unavailable", got.Value, err)
	}
	waitHealth(t, h, healthpb.HealthCheckResponse_NOT_SERVING, "with the database down")
	proxy.Up()
	waitHealth(t, h, healthpb.HealthCheckResponse_SERVING, "after the database returns")
	tokenize(t, c, "card_number", "5555 5555 5555 4444")

	var recs, fps int
	conn := f.conn(t)
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pv_records`).Scan(&recs); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT line FROM pv_audit_records WHERE line LIKE '%"op":"tokenize"%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		var ev struct {
			Tokens []string `json:"token_fps"`
		}
		if err := rows.Scan(&line); err != nil || json.Unmarshal([]byte(line), &ev) != nil {
			t.Fatalf("reading tokenize events: %v", err)
		}
		fps += len(ev.Tokens)
	}
	rows.Close()
	if recs != fps || recs != 2 {
		t.Errorf("records = %d, token fingerprints in tokenize events = %d; want 2 and 2 (nothing stored without its event)", recs, fps)
	}
	v, err := h.Client(ops).VerifyAudit(ctx)
	if err != nil || !v.GetOk() {
		t.Errorf("VerifyAudit() after the outage = %v, %v; want ok", v, err)
	}
}

// TestFleetAuditSameInstanceRefused: a second live sidecar configured
// with a chain another live sidecar holds does not start, and the error
// says why.
func TestFleetAuditSameInstanceRefused(t *testing.T) {
	f := newFleet(t)
	raw := f.auditConfig(t, f.dsn, "twin")
	servertest.Start(t, servertest.Options{Config: raw})
	cfg, err := config.Parse("twin.yaml", raw)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir, cfg.Server.Listen = t.TempDir(), "127.0.0.1:0"
	s, err := server.Start(context.Background(), server.Options{Config: cfg, Dev: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		s.Stop()
		t.Fatal("server.Start() of a second sidecar with audit.instance_id twin succeeded while the first holds the chain")
	}
	if !errors.Is(err, pgsink.ErrChainHeld) || !strings.Contains(err.Error(), "twin") {
		t.Errorf("server.Start() of the twin error = %v; want ErrChainHeld naming the instance", err)
	}
}

// classFailingAuditor fails every tokenize event of one class.
type classFailingAuditor struct {
	next  core.Auditor
	class string
}

func (a classFailingAuditor) Record(ctx context.Context, e core.AuditEvent) error {
	if e.Class == a.class && e.Op == "tokenize" {
		return errors.New("injected audit write failure")
	}
	return a.next.Record(ctx, e)
}

// TestFleetAuditConcurrentTokenize: with audit.sink postgres, concurrent
// tokenize calls (whose records and events share joint transactions) each
// commit exactly their records with their events: calls whose events
// fail store nothing while the others, at the same time, store theirs;
// concurrent calls with one deterministic value get one token and one
// record; every stored token has its event and the chain verifies.
func TestFleetAuditConcurrentTokenize(t *testing.T) {
	f := newFleet(t)
	cfg := f.auditConfig(t, f.dsn, "sidecar-concurrent")
	h := servertest.Start(t, servertest.Options{Config: cfg, AuditHook: func(next core.Auditor) core.Auditor {
		return classFailingAuditor{next: next, class: "email"}
	}})
	ctx := context.Background()
	const n = 12
	var wg sync.WaitGroup
	cards, same := make([]string, n), make([]string, n)
	cardErrs, emailErrs, sameErrs := make([]error, n), make([]error, n), make([]error, n)
	for i := range n {
		wg.Go(func() {
			cards[i], cardErrs[i] = h.Client(checkout).Tokenize(ctx, "card_number", []byte(luhnCard(i)))
		})
		wg.Go(func() {
			_, emailErrs[i] = h.Client(checkout).Tokenize(ctx, "email", fmt.Appendf(nil, "refused-%d@example.com", i))
		})
		wg.Go(func() {
			same[i], sameErrs[i] = h.Client(checkout).Tokenize(ctx, "customer_id", []byte("customer-42"))
		})
	}
	wg.Wait()
	for i := range n {
		if cardErrs[i] != nil || sameErrs[i] != nil {
			t.Fatalf("Tokenize(card %d), Tokenize(customer_id) = %v, %v; want no error", i, cardErrs[i], sameErrs[i])
		}
		if status.Code(emailErrs[i]) != codes.Unavailable {
			t.Errorf("Tokenize(email %d) with its event failing error = %v, want Unavailable", i, emailErrs[i])
		}
		if same[i] != same[0] {
			t.Errorf("Tokenize(customer_id, one value) call %d = %q, want %q (one token)", i, same[i], same[0])
		}
	}
	counts := map[string]int{}
	rows, err := f.conn(t).Query(ctx, `SELECT class, count(*) FROM pv_records GROUP BY class`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var class string
		var c int
		if err := rows.Scan(&class, &c); err != nil {
			t.Fatal(err)
		}
		counts[class] = c
	}
	if want := map[string]int{"card_number": n, "customer_id": 1}; !maps.Equal(counts, want) {
		t.Errorf("records per class = %v, want %v", counts, want)
	}
	for i, tok := range cards {
		got, err := h.Client(checkout).Detokenize(ctx, "payment", "card_number", tok)
		if want := luhnCard(i); err != nil || string(got.Value) != want {
			t.Errorf("Detokenize(card token %d) = %q, %v; want %q", i, got.Value, err, want)
		}
	}
	if got := countOf(f.chainOps(t)["sidecar-concurrent"], "tokenize"); got != 2*n {
		t.Errorf("tokenize events in the chain = %d, want %d (one per call that stored)", got, 2*n)
	}
	v, err := h.Client(ops).VerifyAudit(ctx)
	if err != nil || !v.GetOk() {
		t.Fatalf("VerifyAudit() = %v, %v; want ok", v, err)
	}
}

// luhnCard returns the i-th of distinct Luhn-valid 16-digit card numbers.
func luhnCard(i int) string {
	body := fmt.Sprintf("411111111%06d", i)
	sum := 0
	for k := len(body) - 1; k >= 0; k-- {
		d := int(body[k] - '0')
		if (len(body)-k)%2 == 1 { // doubled: every second digit from the check digit
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return body + fmt.Sprint((10-sum%10)%10)
}

func countOf(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}
