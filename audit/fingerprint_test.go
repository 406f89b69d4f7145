package audit_test

import (
	"regexp"
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
