package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// walkthrough returns the shell block of README.md between the
// dpo-walkthrough markers.
func walkthrough(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- dpo-walkthrough -->\n```sh\n")
	block, _, ok2 := strings.Cut(rest, "```\n<!-- /dpo-walkthrough -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no dpo-walkthrough block")
	}
	return block
}

// TestDPOWalkthrough runs the README's DPO walkthrough, as written, with
// bash against the built binary serving --dev, then checks what each step
// produced.
func TestDPOWalkthrough(t *testing.T) {
	dir := t.TempDir()
	s := startSidecar(t, "--dev", "--data-dir", filepath.Join(dir, "data"))
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", walkthrough(t))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH"), envAddr+"="+s.addr)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walkthrough failed: %v\n%s\nsidecar:\n%s", err, out, s.logs)
	}
	text := string(out)
	for _, want := range []string{
		"ann@example.com",                 // detokenize
		"2027-12-31T00:00:00Z",            // consent set and list
		"receipt OK: token",               // verify-receipt
		"1 values revealed of 1 subjects", // report access
		"cust-42  email  payment  1",      // named by --subjects
	} {
		if !strings.Contains(text, want) {
			t.Errorf("walkthrough output lacks %q:\n%s", want, text)
		}
	}
	var export subjectExport
	b, err := os.ReadFile(filepath.Join(dir, "cust-42.json"))
	if err != nil || json.Unmarshal(b, &export) != nil {
		t.Fatalf("cust-42.json = %s, %v", b, err)
	}
	if len(export.Tokens) != 1 || export.Tokens[0].Value != "ann@example.com" || export.Tokens[0].Description != "Customer e-mail address" ||
		len(export.Consents) != 1 || export.Consents[0].ExpiresAt != "2027-12-31T00:00:00Z" || len(export.AccessHistory) == 0 {
		t.Errorf("cust-42.json = %+v; want the e-mail in text with its description, the consent and the access history", export)
	}
	for _, f := range []string{"cust-42.csv", "erase-receipt.json", "note-receipt.json", "record-of-processing.md"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("walkthrough wrote no %s: %v", f, err)
		}
	}
}
