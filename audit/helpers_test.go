package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
)

// testSigner returns a signer with a fixed key, so tests need no key file.
func testSigner(seed byte) *audit.Ed25519Signer {
	return audit.NewEd25519Signer(ed25519.NewKeyFromSeed(bytesOf(seed, ed25519.SeedSize)))
}

func bytesOf(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

var testFP, _ = audit.NewFingerprinter(bytesOf('k', 32))

// testEvent is the i-th event of a test log; its caller "svc-<i>" is unique
// so tamper tests can find it.
func testEvent(i int) audit.Event {
	return audit.Event{
		Caller:   fmt.Sprintf("svc-%d", i),
		Purpose:  "support",
		Op:       "detokenize",
		Class:    "email",
		Count:    1,
		Decision: audit.DecisionAllow,
		Tokens:   []string{testFP.Token("email", fmt.Sprintf("tok-%d", i))},
		Subject:  testFP.Subject(fmt.Sprintf("subject-%d", i%3)),
	}
}

func openLog(t *testing.T, dir string, opts audit.Options) *audit.Log {
	t.Helper()
	if opts.Signer == nil {
		opts.Signer = testSigner(1)
	}
	l, err := audit.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s) = %v", dir, err)
	}
	return l
}

// appendN appends events from..to (inclusive) one at a time.
func appendN(t *testing.T, l *audit.Log, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		ev, err := l.Append(context.Background(), testEvent(i))
		if err != nil || ev.Seq != uint64(i) {
			t.Fatalf("Append(event %d) = seq %d, %v; want seq %d, nil", i, ev.Seq, err, i)
		}
	}
}

func closeLog(t *testing.T, l *audit.Log) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
}

// readLines returns the lines of the log file, each with its newline.
func readLines(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	return lines[:len(lines)-1]
}

// verifyFile writes lines to a file and verifies it, as the CLI would.
func verifyFile(t *testing.T, lines []string, v audit.Verifier) (audit.Summary, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "copy.log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return audit.Verify(f, v)
}

// verdict is the part of a Verify error the tests compare; zero for nil.
type verdict struct {
	Kind string
	Line int
	Seq  uint64
}

func verdictOf(err error) verdict {
	var ve *audit.VerifyError
	if errors.As(err, &ve) {
		return verdict{ve.Kind, ve.Line, ve.Seq}
	}
	if err != nil {
		return verdict{Kind: "other: " + err.Error()}
	}
	return verdict{}
}

// field returns the value of the string member name of a line.
func field(line, name string) string {
	_, rest, _ := strings.Cut(line, `"`+name+`":"`)
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// setField replaces the value of the string member name.
func setField(line, name, value string) string {
	old := `"` + name + `":"` + field(line, name) + `"`
	return strings.Replace(line, old, `"`+name+`":"`+value+`"`, 1)
}

// rehash recomputes a line's hash as the package documents it: SHA-256 of
// the line without its ,"hash":"…" member. It is what an attacker can do.
func rehash(line string) string {
	line = strings.TrimSuffix(line, "\n")
	body := line[:strings.LastIndex(line, `,"hash":"`)] + "}"
	sum := sha256.Sum256([]byte(body))
	return body[:len(body)-1] + `,"hash":"` + hex.EncodeToString(sum[:]) + `"}` + "\n"
}
