package audit_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"regexp"
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
	spec := func(domain string, parts ...string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("privacyvault/audit/v1/" + domain + "\x00"))
		for _, p := range parts {
			var n [8]byte
			binary.BigEndian.PutUint64(n[:], uint64(len(p)))
			m.Write(n[:])
			m.Write([]byte(p))
		}
		return hex.EncodeToString(m.Sum(nil)[:16])
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				class, tok, subj := fmt.Sprint("c", w), fmt.Sprint("tok", i), fmt.Sprint("s", w, i)
				if got, want := fp.Token(class, tok), spec("token", class, tok); got != want {
					t.Errorf("Token(%s, %s) = %s, want %s", class, tok, got, want)
				}
				if got, want := fp.Subject(subj), spec("subject", subj); got != want {
					t.Errorf("Subject(%s) = %s, want %s", subj, got, want)
				}
			}
		}()
	}
	wg.Wait()
}
