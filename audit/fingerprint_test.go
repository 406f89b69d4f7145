package audit_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
)

func TestFingerprint(t *testing.T) {
	other, _ := audit.NewFingerprinter(bytesOf('o', 32))
	tests := []struct {
		name string
		a, b string
	}{
		{"class separates tokens", testFP.Token("email", "t"), testFP.Token("ssn", "t")},
		{"tokens and subjects are separate domains", testFP.Token("", "x"), testFP.Subject("x")},
		{"length prefix separates parts", testFP.Token("ab", "c"), testFP.Token("a", "bc")},
		{"key separates", testFP.Subject("alice"), other.Subject("alice")},
	}
	for _, tt := range tests {
		if tt.a == tt.b {
			t.Errorf("%s: both fingerprints = %s, want different", tt.name, tt.a)
		}
	}
	shape := regexp.MustCompile(`^[0-9a-f]{32}$`)
	if fp := testFP.Subject("alice"); !shape.MatchString(fp) || fp != testFP.Subject("alice") {
		t.Errorf("Subject(alice) = %s, want 32 stable lowercase hex digits", fp)
	}
	if fp := testFP.TokenV1("email", "t"); !shape.MatchString(fp) {
		t.Errorf("TokenV1(email, t) = %s, want 32 lowercase hex digits", fp)
	}
	shape2 := regexp.MustCompile(`^[A-Za-z0-9_-]{17}[AQgw]$`)
	if fp := testFP.Token("email", "t"); !shape2.MatchString(fp) || fp != testFP.Token("email", "t") {
		t.Errorf("Token(email, t) = %s, want 18 stable base64url digits", fp)
	}
	if _, err := audit.NewFingerprinter(make([]byte, audit.FingerprintKeySize-1)); err == nil {
		t.Errorf("NewFingerprinter(%d bytes) = nil error, want an error", audit.FingerprintKeySize-1)
	}
}

// The pooled HMAC states give exactly the specified fingerprint, call
// after call and from many goroutines at once.
func TestFingerprintMatchesSpec(t *testing.T) {
	key := bytesOf('k', 32)
	fp, err := audit.NewFingerprinter(key)
	if err != nil {
		t.Fatal(err)
	}
	mac := func(domain string, parts ...string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("privacyvault/audit/v1/" + domain + "\x00"))
		for _, p := range parts {
			var n [8]byte
			binary.BigEndian.PutUint64(n[:], uint64(len(p)))
			m.Write(n[:])
			m.Write([]byte(p))
		}
		return m.Sum(nil)
	}
	spec := func(domain string, parts ...string) string { return hex.EncodeToString(mac(domain, parts...)[:16]) }
	specV2 := func(parts ...string) string {
		return base64.RawURLEncoding.EncodeToString(mac("token", parts...)[:13])
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				class, tok, subj := fmt.Sprint("c", w), fmt.Sprint("tok", i), fmt.Sprint("s", w, i)
				if got, want := fp.Token(class, tok), specV2(class, tok); got != want {
					t.Errorf("Token(%s, %s) = %s, want %s", class, tok, got, want)
				}
				if got, want := fp.TokenV1(class, tok), spec("token", class, tok); got != want {
					t.Errorf("TokenV1(%s, %s) = %s, want %s", class, tok, got, want)
				}
				if got, want := fp.Subject(subj), spec("subject", subj); got != want {
					t.Errorf("Subject(%s) = %s, want %s", subj, got, want)
				}
			}
		}()
	}
	wg.Wait()
}

// A log that spans the change of token fingerprint spelling (events
// written with version 1 fingerprints, then version 2) verifies, and the
// subject report finds the subject's events in both parts.
func TestLogSpanningFingerprintVersions(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{})
	for i, fp := range []string{testFP.TokenV1("email", "tok"), testFP.Token("email", "tok")} {
		ev := testEvent(i + 1)
		ev.Tokens, ev.Subject = []string{fp}, testFP.Subject("alice")
		if _, err := l.Append(context.Background(), ev); err != nil {
			t.Fatalf("Append(event with token fingerprint %s) = %v", fp, err)
		}
	}
	closeLog(t, l)
	lines := readLines(t, dir)
	if _, err := verifyFile(t, lines, testSigner(1)); err != nil {
		t.Errorf("Verify(log with both spellings) = %v, want nil", err)
	}
	got, err := audit.SubjectReport(strings.NewReader(strings.Join(lines, "")), testFP.Subject("alice"))
	if err != nil || len(got) != 2 {
		t.Errorf("SubjectReport(alice) = %d events, %v; want 2", len(got), err)
	}
}

// A TokenSet gives exactly Token's fingerprints, filled from several
// goroutines at once, and a slot filled twice does not change the string
// it gave first.
func TestTokenSetMatchesToken(t *testing.T) {
	const n = 300
	set := testFP.TokenSet(n)
	got := make([]string, n)
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := w; i < n; i += 3 {
				got[i] = set.Token(i, "email", fmt.Sprintf("tok-%d", i))
			}
		})
	}
	wg.Wait()
	for i, fp := range got {
		if want := testFP.Token("email", fmt.Sprintf("tok-%d", i)); fp != want {
			t.Errorf("TokenSet.Token(%d, email, tok-%d) = %s, want %s", i, i, fp, want)
		}
	}
	first := got[7]
	if again := set.Token(7, "email", "other"); again != testFP.Token("email", "other") {
		t.Errorf("TokenSet.Token(7, email, other) on a filled slot = %s, want %s", again, testFP.Token("email", "other"))
	}
	if first != testFP.Token("email", "tok-7") {
		t.Errorf("slot 7's first fingerprint changed to %s after the slot was filled again", first)
	}
}
