package audit

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestIsFingerprint(t *testing.T) {
	fp := strings.Repeat("0123456789abcdef", 2)
	tests := []struct {
		s    string
		want bool
	}{
		{fp, true},
		{strings.Repeat("f", 32), true},
		{strings.ToUpper(fp), false},
		{fp[:31] + "g", false},
		{fp[:31] + "/", false}, // '0' - 1
		{fp[:31] + ":", false}, // '9' + 1
		{fp[:31] + "`", false}, // 'a' - 1
		{"\xff" + fp[1:], false},
		{fp[:31], false},
		{fp + "0", false},
	}
	for _, tt := range tests {
		if got := isFingerprint(tt.s); got != tt.want {
			t.Errorf("isFingerprint(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestIsTokenFingerprint(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{strings.Repeat("0123456789abcdef", 2), true}, // version 1
		{"EjwJgwSiBFh1t0pNYQ", true},
		{"-_zZ09-_zZ09-_zZ0w", true},
		{"EjwJgwSiBFh1t0pNYR", false}, // stray low bits in the last digit
		{"411111111111111111", false}, // 18 decimal digits: a raw token's shape
		{"EjwJgwSiBFh1t0pNY=", false},
		{"EjwJgwSiBFh1t0pN+Q", false}, // standard, not URL, alphabet
		{"EjwJgwSiBFh1t0pNYQA", false},
		{"EjwJgwSiBFh1t0pNY", false},
	}
	for _, tt := range tests {
		if got := isTokenFingerprint(tt.s); got != tt.want {
			t.Errorf("isTokenFingerprint(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// isTokenFingerprint accepts exactly what a strict base64url decode of 13
// bytes accepts, for 18-digit strings made of every byte at every
// position around a valid fingerprint.
func TestIsTokenFingerprintMatchesStrictDecode(t *testing.T) {
	base := []byte("EjwJgwSiBFh1t0pNYQ")
	for pos := range base {
		for c := range 256 {
			s := bytes.Clone(base)
			s[pos] = byte(c)
			var b [tokenFPBytes]byte
			n, err := base64.RawURLEncoding.Strict().Decode(b[:], s)
			want := err == nil && n == tokenFPBytes
			if got := isTokenFingerprint(string(s)); got != want {
				t.Fatalf("isTokenFingerprint(%q) = %v, want %v (strict decode)", s, got, want)
			}
		}
	}
}
