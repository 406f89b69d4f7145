package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// complianceDuties are the duties docs/compliance.md must cover.
var complianceDuties = []string{
	"Lawfulness and consent", "Purpose limitation", "Data minimisation", "Accuracy (rectification)",
	"Storage limitation (retention)", "Integrity and confidentiality: encryption at rest",
	"Integrity and confidentiality: encryption in transit", "Integrity and confidentiality: pseudonymisation",
	"Accountability (audit)", "Right of access", "Right to data portability", "Right to rectification",
	"Right to erasure", "Right to object", "Breach detection", "Breach notification", "Records of processing",
	"CCPA right to know", "CCPA right to delete", "CCPA right to opt out",
}

// TestComplianceTableNamesRealTests parses the duty table of
// docs/compliance.md: every duty is there, and every test it names is a
// test function in that package (so it runs in make test).
func TestComplianceTableNamesRealTests(t *testing.T) {
	repo := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(repo, "docs", "compliance.md"))
	if err != nil {
		t.Fatal(err)
	}
	var duties []string
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 4 || !strings.HasPrefix(line, "| ") || strings.TrimSpace(cells[0]) == "Duty" {
			continue
		}
		duty := strings.TrimSpace(cells[0])
		duties = append(duties, duty)
		tests := strings.Split(strings.TrimSpace(cells[3]), ", ")
		if len(tests) == 0 || tests[0] == "" {
			t.Errorf("duty %q names no test", duty)
		}
		for _, name := range tests {
			i := strings.LastIndex(name, ".")
			if i < 0 {
				t.Errorf("duty %q: test %q is not package.TestName", duty, name)
				continue
			}
			if !testExists(t, filepath.Join(repo, name[:i]), name[i+1:]) {
				t.Errorf("duty %q: no func %s in %s/*_test.go", duty, name[i+1:], name[:i])
			}
		}
	}
	for _, d := range complianceDuties {
		if !slices.Contains(duties, d) {
			t.Errorf("docs/compliance.md has no row for duty %q", d)
		}
	}
}

func testExists(t *testing.T, dir, name string) bool {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^func ` + regexp.QuoteMeta(name) + `\(t \*testing\.T\) \{`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if re.Match(b) {
			return true
		}
	}
	return false
}
