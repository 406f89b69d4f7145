package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// spellings returns the 32 spellings that name the identifier of vaulted
// token tok: the 16 values of the last base32 character's 4 unused bits,
// each with the body in lower and in upper case.
func spellings(tok string) []string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	var out []string
	for pad := range 16 {
		v := tok[:len(tok)-1] + string(alphabet[last&^15|pad])
		out = append(out, v, tokenizer.TokenPrefix+strings.ToUpper(v[len(tokenizer.TokenPrefix):]))
	}
	return out
}

// auditEvents reads every event (not checkpoints) of the audit log in
// dataDir.
func auditEvents(t *testing.T, dataDir string) []audit.Event {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir, "audit", audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []audit.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), []byte(`{"type":"checkpoint"`)) {
			continue
		}
		var ev audit.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// auditLogText returns the audit log in dataDir.
func auditLogText(t *testing.T, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "audit", audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withPolicyFile starts a server whose configuration is a file, so tests
// can change its policy and reload it.
func withPolicyFile(t *testing.T) (*servertest.Harness, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, examples.Config, 0o600); err != nil {
		t.Fatal(err)
	}
	return servertest.Start(t, servertest.Options{Config: examples.Config, ConfigPath: path}), path
}

// plantHoneytoken adds a honeytoken to the policy file and reloads it.
func plantHoneytoken(t *testing.T, h *servertest.Harness, path, class, token string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), "  honeytokens:\n", "  honeytokens:\n    - class: "+class+"\n      token: \""+token+"\"\n", 1))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.Server.ReloadPolicy(); err != nil {
		t.Fatalf("ReloadPolicy(with honeytoken) error = %v", err)
	}
}

// TestOneSpellingPerToken: of the 32 spellings of a vaulted token only the
// canonical one detokenizes (the rest are InvalidArgument, like a forged
// token); every spelling of a vaulted honeytoken, and an fpe honeytoken
// with or without separators, is denied and raises the honeytoken alert;
// audit fingerprints name the token, not the spelling.
func TestOneSpellingPerToken(t *testing.T) {
	h, path := withPolicyFile(t)
	app := h.Client(checkout)
	ctx := context.Background()
	real := tokenize(t, app, "card_number", "4111111111111111")
	canary := tokenize(t, app, "card_number", "4000056655665556")
	plantHoneytoken(t, h, path, "card_number", canary)

	for _, v := range spellings(real) {
		got, err := app.Detokenize(ctx, "payment", "card_number", v)
		if v == real {
			if err != nil || string(got.Value) != "4111111111111111" {
				t.Errorf("Detokenize(canonical token) = %q, %v, want the value", got.Value, err)
			}
			continue
		}
		if status.Code(err) != codes.InvalidArgument || fieldViolation(err) != "items[0].token" {
			t.Errorf("Detokenize(spelling %s of %s) = %q, %v, want InvalidArgument on items[0].token", v, real, got.Value, err)
		}
	}

	fpeSpellings := []string{"4111110000001111", "4111-1100-0000-1111", "4111 1100 0000 1111", "41111-10000-001111"}
	canaries := append(spellings(canary), fpeSpellings...)
	for i, v := range canaries {
		class := "card_number"
		if i >= 32 {
			class = "card_fpe"
		}
		got, err := app.Detokenize(ctx, "payment", class, v)
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("Detokenize(%s honeytoken spelled %q) = %q, %v, want PermissionDenied", class, v, got.Value, err)
		}
	}
	if got, want := h.Server.Metrics().Get("privacyvault_alerts_total", "kind", "honeytoken"), float64(len(canaries)); got != want {
		t.Errorf("honeytoken alerts = %v, want %v (one per spelling)", got, want)
	}

	h.Stop()
	var minted, seen []string
	for _, ev := range auditEvents(t, h.DataDir) {
		switch {
		case ev.Class != "card_number":
		case ev.Op == "tokenize":
			minted = append(minted, ev.Tokens...)
		case ev.Op == "detokenize":
			seen = append(seen, ev.Tokens...)
		}
	}
	if len(minted) != 2 || len(seen) != 64 {
		t.Fatalf("audit: %d tokenize and %d detokenize fingerprints of card_number, want 2 and 64", len(minted), len(seen))
	}
	for _, fp := range seen {
		if !slices.Contains(minted, fp) {
			t.Errorf("audit: detokenize fingerprint %s is not that of a minted token: a spelling got its own fingerprint", fp)
		}
	}
}
