package privacyvault_test

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"

	"github.com/privacyvault/privacyvault"
)

// TestSDKVersionsMatch: every SDK manifest names the version in VERSION.
func TestSDKVersionsMatch(t *testing.T) {
	want := privacyvault.Version()
	if !regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`).MatchString(want) {
		t.Fatalf("VERSION = %q, want a semantic version", want)
	}
	var pkg struct {
		Version string `json:"version"`
	}
	b, err := os.ReadFile("sdk/typescript/package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	if pkg.Version != want {
		t.Errorf("sdk/typescript/package.json version = %q, want %q (VERSION)", pkg.Version, want)
	}
	tests := []struct {
		file string
		re   string
	}{
		{"sdk/typescript/package-lock.json", `(?s)^\{\s*"name": "@privacyvault/client",\s*"version": "([^"]+)"`},
		{"sdk/python/pyproject.toml", `(?m)^version = "([^"]+)"$`},
		{"sdk/python/src/privacyvault/__init__.py", `(?m)^__version__ = "([^"]+)"$`},
		{"sdk/java/pom.xml", `<artifactId>privacyvault-client</artifactId>\s*(?:<!--(?s:.*?)-->\s*)?<version>([^<]+)</version>`},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(tt.re).FindSubmatch(b)
		if m == nil {
			t.Errorf("%s: no version found by %s", tt.file, tt.re)
			continue
		}
		if got := string(m[1]); got != want {
			t.Errorf("%s version = %q, want %q (VERSION)", tt.file, got, want)
		}
	}
}
