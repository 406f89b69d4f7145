package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/internal/pgtest"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// Bearer tokens of the sample configuration's callers.
const (
	tokCheckout  = "dev-checkout-token-0001"
	tokAnalytics = "dev-analytics-token-0003"
	tokOps       = "dev-ops-token-00000004"
	tokDPO       = "dev-dpo-token-00000005"
)

// cliCase is one command line run against the sidecar.
type cliCase struct {
	args  []string
	stdin string
	code  int
	want  string // in stdout or stderr
	not   string // in neither, if set
}

// TestEveryCommandAgainstSidecar runs a happy path and an error path of
// every command against a real in-process sidecar, in the order an
// operator and a DPO would, and checks that the table covers the whole
// command tree: no command is left untried, and none can panic.
func TestEveryCommandAgainstSidecar(t *testing.T) {
	everyCommand(t, false)
}

// TestEveryCommandJSON runs the same command lines on a fresh sidecar with
// --json added to each that succeeds: every one prints valid JSON (the
// completion scripts, help and the docs writer excepted).
func TestEveryCommandJSON(t *testing.T) {
	everyCommand(t, true)
}

// notJSON are the successful commands whose output is not a JSON report.
var notJSON = map[string]bool{"completion bash": true, "completion zsh": true, "completion fish": true, "completion powershell": true, "help": true, "gen-docs": true}

func everyCommand(t *testing.T, asJSON bool) {
	h := servertest.Start(t, servertest.Options{Config: examples.Config})
	t.Setenv(envAddr, h.Addr)
	t.Setenv(envToken, "")
	ctx := context.Background()
	app := h.Client(tokCheckout)
	res, err := app.TokenizeBatch(ctx, []client.TokenizeItem{
		{Class: "email", Value: []byte("ann@example.com"), SubjectID: "cust-42"},
		{Class: "notes", Value: []byte("call after 5pm")},
		{Class: "card_fpe", Value: []byte("4111111111111111")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	email, notes, card := res[0].Token, res[1].Token, res[2].Token
	if _, err := app.Detokenize(ctx, "payment", "email", email); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub := filepath.Join(h.DataDir, "audit-verification-keys.pem")
	keysPEM := filepath.Join(t.TempDir(), "keys.pem")
	tokenReceipt := filepath.Join(dir, "token-receipt.json")
	eraseReceipt := filepath.Join(dir, "erase-receipt.json")
	tampered := filepath.Join(dir, "tampered.json")
	goodCfg := filepath.Join(dir, "config.yaml")
	badCfg := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(goodCfg, examples.Config, 0o600); err != nil {
		t.Fatal(err)
	}
	// migrate: the sample configuration on a fresh PostgreSQL database.
	pgCfg, dsnFile := filepath.Join(dir, "postgres.yaml"), filepath.Join(dir, "dsn")
	pgYAML := strings.Replace(string(examples.Config), "store:\n  backend: badger\n", "store:\n  backend: postgres\n  postgres:\n    dsn_file: "+dsnFile+"\n", 1)
	if err := os.WriteFile(dsnFile, []byte(pgtest.New(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pgCfg, []byte(pgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(examples.Config), "      reveal: masked\n", "      revaal: masked\n", 1)
	if err := os.WriteFile(badCfg, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.yaml")
	as := func(token string, args ...string) []string { return append(args, "--token", token) }

	steps := []cliCase{
		{args: as(tokCheckout, "tokenize", "--class", "email", "bob@example.com", "--json"), want: `"error":null`},
		{args: as(tokCheckout, "tokenize", "x", "--class", "emial"), code: 1, want: `unknown data class "emial", did you mean "email"? (configured classes: account_number`},
		{args: as(tokCheckout, "tokenize", "x", "--class", "4111111111111111"), code: 1, want: `unknown data class (configured classes: account_number`, not: "4111111111111111"},
		{args: as(tokCheckout, "lookup", "ann@example.com", "--class", "email", "--subject", "cust-42"), want: email},
		{args: as(tokCheckout, "lookup", "--class", "email", "nobody@example.com"), code: 1, want: "NotFound"},
		{args: as(tokCheckout, "detokenize", email, "--class", "email", "--purpose", "payment"), want: "ann@example.com"},
		{args: as(tokCheckout, "detokenize", "--class", "email", "--purpose", "paymnet", email), code: 1, want: `(did you mean "payment"?); declared purposes: analytics, customer-support, dsar, marketing, payment`, not: "paymnet"},
		{args: as(tokAnalytics, "detokenize", "--class", "email", "--purpose", "analytics", email), code: exitRedacted, want: redactedLine},
		{args: as(tokOps, "keys", "status"), want: "card_fpe"},
		{args: as(tokCheckout, "keys", "status"), code: 1, want: "PermissionDenied"},
		{args: as(tokOps, "keys", "rotate", "--class", "email", "--json"), want: `"currentVersion":2`},
		{args: as(tokOps, "keys", "rotate", "--class", "nope"), code: 1, want: "unknown data class"},
		{args: as(tokOps, "keys", "rewrap"), want: "re-wrapped"},
		{args: as(tokCheckout, "keys", "rewrap"), code: 1, want: "PermissionDenied"},
		{args: as(tokOps, "keys", "reencrypt", "--class", "email", "--wait"), want: "done"},
		{args: as(tokOps, "keys", "reencrypt", "--class", "card_fpe"), code: 1, want: "stores no records"},
		{args: as(tokOps, "keys", "retire", "--class", "email", "--below", "2"), want: "(retired)"},
		{args: as(tokOps, "keys", "retire", "--class", "email", "--below", "9"), code: 1, want: "rpc error"},
		{args: as(tokOps, "keys", "rotate", "--class", "card_fpe"), want: "v1 (newest v2: set key_version after keys retokenize)"},
		{args: as(tokOps, "keys", "retokenize", "--class", "card_fpe", "--from", "1", "--to", "2"), stdin: card + "\n", want: card + "\t"},
		{args: as(tokOps, "keys", "retokenize", "--class", "email", "--from", "1", "--to", "2", email), code: 1, want: "InvalidArgument"},
		{args: as(tokOps, "audit", "verify"), want: "audit log OK"},
		{args: []string{"audit", "verify", "--file", missing, "--public-key", pub}, code: exitUnverified, want: "COULD NOT BE VERIFIED"},
		{args: as(tokOps, "audit", "export-keys", "--out", keysPEM), want: "wrote 1 verification keys to " + keysPEM},
		{args: as(tokCheckout, "audit", "export-keys"), code: 1, want: "PermissionDenied"},
		{args: as(tokOps, "audit", "subject", "cust-42", "--json"), want: `"accesses":[`},
		{args: as(tokCheckout, "audit", "subject", "cust-42"), code: 1, want: "PermissionDenied"},
		{args: as(tokCheckout, "audit", "tail"), code: 1, want: "PermissionDenied"},
		{args: as(tokDPO, "consent", "set", "--subject", "cust-42", "--purpose", "marketing", "--expires", "2027-12-31"), want: "2027-12-31T00:00:00Z"},
		{args: as(tokDPO, "consent", "set", "--subject", "cust-42", "--purpose", "payment"), code: 1, want: "does not require consent"},
		{args: as(tokDPO, "consent", "set", "--subject", "cust-42", "--purpose", "marketing", "--expires", "31/12/2027"), code: exitUsage, want: "or a date (2027-12-31)"},
		{args: as(tokDPO, "consent", "list", "--subject", "cust-42"), want: "never", not: "1970"},
		{args: as(tokCheckout, "consent", "list", "--subject", "cust-42"), code: 1, want: "PermissionDenied"},
		{args: as(tokDPO, "subject", "export", "cust-42"), want: `"value":"ann@example.com","encoding":"text"`},
		{args: as(tokDPO, "subject", "export", "cust-42", "--format", "csv"), want: "token,email,"},
		{args: as(tokCheckout, "subject", "export", "cust-42"), code: 1, want: "PermissionDenied"},
		{args: as(tokDPO, "consent", "revoke", "--subject", "cust-42", "--purpose", "marketing"), want: "false"},
		{args: as(tokDPO, "consent", "revoke", "--subject", "cust-42", "--purpose", "dsar"), code: 1, want: "NotFound"},
		{args: as(tokDPO, "subject", "rectify", "--class", "email", email), stdin: "ann.new@example.com\n", want: "rectified"},
		{args: as(tokDPO, "subject", "rectify", "--class", "card_fpe", card), stdin: "4111111111111111\n", code: 1, want: "InvalidArgument"},
		{args: as(tokDPO, "subject", "delete-token", notes, "--class", "notes", "--receipt", tokenReceipt), want: `"kind": "token"`},
		{args: as(tokDPO, "subject", "delete-token", notes, "--class", "notes", "--json"), want: `"kind": "token"`},
		{args: as(tokDPO, "subject", "delete-token", "pvt_nope", "--class", "notes"), code: 1, want: "InvalidArgument"},
		{args: []string{"subject", "verify-receipt", "--receipt", tokenReceipt, "--public-key", pub}, want: "receipt OK: token"},
		{args: []string{"subject", "verify-receipt", "--receipt", tampered, "--public-key", pub}, code: 1, want: "signature"},
		{args: as(tokDPO, "subject", "erase", "cust-42", "--receipt", eraseReceipt), want: `"subject_fp"`},
		{args: as(tokCheckout, "subject", "erase", "cust-42"), code: 1, want: "PermissionDenied"},
		{args: []string{"subject", "verify-receipt", "--receipt", eraseReceipt, "--public-key", pub, "--json"}, want: `"kind":"subject"`},
		{args: []string{"subject", "verify-receipt", "--receipt", eraseReceipt, "--public-key", pub}, want: "what remains (signed): Embedded Badger store"},
		{args: as(tokOps, "purge"), want: "purge: 0 expired records deleted"},
		{args: as(tokCheckout, "purge"), code: 1, want: "PermissionDenied"},
		{args: as(tokCheckout, "health"), want: "SERVING"},
		{args: as(tokCheckout, "health", "--addr", freeAddr(t), "--timeout", "5s"), code: 1, want: "Unavailable"},
		{args: as(tokOps, "policy", "explain", "--identity", "support", "--purpose", "customer-support", "--class", "ssn"), want: "policy.grants[7]: support/customer-support/ssn -> deny"},
		{args: []string{"policy", "explain", "--config", goodCfg, "--identity", "analytics", "--purpose", "payment", "--class", "email"}, want: "no grant matches"},
		{args: as(tokOps, "policy", "explain", "--identity", "support", "--purpose", "customer-support", "--class", "passport"), code: 1, want: "unknown data class (configured classes"},
		{args: []string{"config", "validate", goodCfg}, want: "OK"},
		{args: []string{"config", "validate", badCfg}, code: 1, want: ".revaal: unknown field"},
		{args: []string{"config", "validate", badCfg, "--json"}, code: 1, want: `"field":"policy.grants[6].revaal","message":"unknown field (valid here: identity, purpose, class, reveal)"`},
		{args: []string{"config", "show", "--dev", "--listen", "127.0.0.1:9999"}, want: "listen: 127.0.0.1:9999", not: tokCheckout},
		{args: []string{"config", "show", "--config", missing}, code: 1, want: "no such file"},
		{args: []string{"report", "processing", "--config", goodCfg}, want: "# Record of processing activities"},
		{args: []string{"report", "processing", "--config", badCfg}, code: 1, want: "revaal"},
		{args: as(tokOps, "report", "access", "--identity", "checkout", "--since", "24h"), want: "values revealed"},
		{args: as(tokOps, "report", "access", "--identity", "checkout", "--since", "24h", "--subjects", "-"), stdin: "cust-1\ncust-42\n", want: "cust-42  email"},
		{args: as(tokOps, "report", "access", "--identity", "checkout", "--since", "yesterday"), code: exitUsage, want: "--since"},
		{args: []string{"migrate", "--config", pgCfg}, want: "schema version 2"},
		{args: []string{"migrate", "--config", goodCfg}, code: 1, want: "store.backend is not postgres"},
		{args: []string{"version"}, want: "privacyvault "},
		{args: []string{"version", "extra"}, code: exitUsage, want: "takes no arguments"},
		{args: []string{"completion", "bash"}, want: "bash completion"},
		{args: []string{"completion", "zsh"}, want: "zsh completion"},
		{args: []string{"completion", "fish"}, want: "fish completion"},
		{args: []string{"completion", "powershell"}, want: "powershell completion"},
		{args: []string{"completion", "bash", "extra"}, code: exitUsage, want: "extra"},
		{args: []string{"completion", "zsh", "extra"}, code: exitUsage, want: "extra"},
		{args: []string{"completion", "fish", "extra"}, code: exitUsage, want: "extra"},
		{args: []string{"completion", "powershell", "extra"}, code: exitUsage, want: "extra"},
		{args: []string{"serve", "--config", missing}, code: 1, want: "no such file"},
		{args: []string{"gen-docs", filepath.Join(dir, "docs")}, want: ""},
		{args: []string{"gen-docs"}, code: exitUsage, want: "one DIR"},
		{args: []string{"help", "keys"}, want: "Usage:"},
	}
	// Written after delete-token made its receipt: a receipt whose
	// signed fields were changed.
	tamper := func() {
		b, err := os.ReadFile(tokenReceipt)
		if err == nil {
			os.WriteFile(tampered, bytes.Replace(b, []byte(`"records": 1`), []byte(`"records": 2`), 1), 0o600)
		}
	}
	happy, failing := map[string]bool{}, map[string]bool{}
	for _, st := range steps {
		if strings.Contains(strings.Join(st.args, " "), "verify-receipt --receipt "+tampered) {
			tamper()
		}
		path := commandPath(st.args)
		var out, errOut bytes.Buffer
		if asJSON && st.code == 0 && !notJSON[path] {
			code := run(ctx, append(slices.Clone(st.args), "--json"), strings.NewReader(st.stdin), &out, &errOut)
			if code != 0 || !json.Valid(out.Bytes()) {
				t.Errorf("privacyvault %s --json = %d\nstdout: %s\nstderr: %s\nwant 0 and one JSON document", strings.Join(st.args, " "), code, out.String(), errOut.String())
			}
			continue
		}
		code := run(ctx, st.args, strings.NewReader(st.stdin), &out, &errOut)
		all := out.String() + errOut.String()
		if asJSON {
			continue
		}
		if code != st.code || !strings.Contains(all, st.want) || (st.not != "" && strings.Contains(all, st.not)) {
			t.Errorf("privacyvault %s = %d\nstdout: %s\nstderr: %s\nwant %d and %q (and not %q)", strings.Join(st.args, " "), code, out.String(), errOut.String(), st.code, st.want, st.not)
		}
		if st.code == 0 {
			happy[path] = true
		} else {
			failing[path] = true
		}
	}
	// Covered elsewhere: serve's happy path (TestKill9Durability and the
	// other serve tests run the binary), tail's (TestAuditTailStreams);
	// help accepts any topic.
	if asJSON {
		return
	}
	happy["serve"], happy["audit tail"], failing["help"] = true, true, true
	for _, p := range leaves(newRoot(nil, io.Discard, io.Discard), nil) {
		name := strings.Join(p, " ")
		if !happy[name] || !failing[name] {
			t.Errorf("command %q: happy path tried %v, error path tried %v; want both", name, happy[name], failing[name])
		}
	}
}

// commandPath returns the command words at the start of args.
func commandPath(args []string) string {
	root := newRoot(nil, io.Discard, io.Discard)
	root.InitDefaultHelpCmd()
	c, _, err := root.Find(args)
	if err != nil {
		return fmt.Sprint(err)
	}
	return strings.TrimPrefix(c.CommandPath(), "privacyvault ")
}

// TestAuditTailStreams: tail prints the log as JSON lines and stops
// cleanly when interrupted.
func TestAuditTailStreams(t *testing.T) {
	h := servertest.Start(t, servertest.Options{Config: examples.Config})
	if _, err := h.Client(tokCheckout).Tokenize(context.Background(), "email", []byte("tail@example.com")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnLine{cancel: cancel}
	code := run(ctx, []string{"audit", "tail", "--addr", h.Addr, "--token", tokOps}, nil, w, io.Discard)
	if code != 0 || !strings.HasPrefix(w.buf.String(), `{"seq":1,`) {
		t.Errorf("audit tail = %d, %q; want 0 and the first record", code, w.buf.String())
	}
}

// cancelOnLine cancels a context once it has received a line.
type cancelOnLine struct {
	buf    bytes.Buffer
	cancel func()
}

func (c *cancelOnLine) Write(p []byte) (int, error) {
	c.buf.Write(p)
	if bytes.Contains(p, []byte("\n")) {
		c.cancel()
	}
	return len(p), nil
}
