package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseErrorsNameLineAndPath(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown field in a grant", "classes:\n  - name: email\n    mode: random\npolicy:\n  grants:\n    - identity: a\n      purpose: p\n      class: email\n      revaal: plain\n",
			[]string{"f.yaml:9: policy.grants[0].revaal: unknown field (valid here: identity, purpose, class, reveal)"}},
		{"missing colon", "classes:\n  - name: email\n    mode: random\n  - name: x\n    mode random\n",
			[]string{"f.yaml:5: could not find expected ':'"}},
		{"bad indentation", "server:\n  listen: a\n   data_dir: b\nclasses: []\n",
			[]string{"f.yaml:3: "}},
		{"unterminated quote", "server:\n  listen: \"a\nclasses: []\n",
			[]string{"f.yaml:2: "}},
		{"wrong type", "server:\n  max_batch: lots\nclasses:\n  - {name: email, mode: random}\n",
			[]string{"f.yaml:2: server.max_batch: cannot unmarshal"}},
		{"every validation error", "classes:\n  - name: email\n    mode: sometimes\n  - name: Bad\n    mode: random\n",
			[]string{"f.yaml:3: classes[0].mode", "f.yaml:4: classes[1].name"}},
	}
	for _, tt := range tests {
		_, err := Parse("f.yaml", []byte(tt.yaml))
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: Parse() error = %v, want it to contain %q", tt.name, err, w)
			}
		}
	}
}

// TestLoadPolicyUnchangedReportsNothing: reloading an unchanged file
// reports no restart-only section as changed.
func TestLoadPolicyUnchangedReportsNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	data := "classes:\n  - name: card\n    mode: fpe\n    format: {name: credit_card}\n  - name: email\n    mode: random\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	running, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, changed, err := LoadPolicy(path, running); err != nil || len(changed) != 0 {
		t.Errorf("LoadPolicy(unchanged) = %v, %v; want nothing changed", changed, err)
	}
	if err := os.WriteFile(path, []byte(data+"    retention: 30d\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, changed, err := LoadPolicy(path, running); err != nil || !slices.Equal(changed, []string{"classes"}) {
		t.Errorf("LoadPolicy(retention changed) = %v, %v; want [classes]", changed, err)
	}
}
