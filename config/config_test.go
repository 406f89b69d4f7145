package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/tokenizer/format"
)

func TestSampleConfigIsValid(t *testing.T) {
	c, err := config.Parse("examples/config.yaml", examples.Config)
	if err != nil {
		t.Fatalf("Parse(sample) error = %v", err)
	}
	if len(c.Classes) == 0 || len(c.Callers) == 0 || len(c.Policy.Grants) == 0 || len(c.Policy.Purposes) == 0 {
		t.Errorf("Parse(sample) = %d classes, %d callers, %d grants, %d purposes; want all non-empty", len(c.Classes), len(c.Callers), len(c.Policy.Grants), len(c.Policy.Purposes))
	}
	if c.Server.MaxBatch != 10000 {
		t.Errorf("sample max_batch = %d, want 10000", c.Server.MaxBatch)
	}
}

const base = `classes:
  - name: email
    mode: deterministic
callers:
  - identity: app
    token: a-long-enough-token
`

func TestParseErrorsNameFileLineField(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"bad mode", "classes:\n  - name: email\n    mode: sometimes\n", "c.yaml:3: classes[0].mode: unknown token mode"},
		{"bad name", "classes:\n  - name: Email!\n    mode: random\n", "c.yaml:2: classes[0].name: must match"},
		{"duplicate class", "classes:\n  - name: a\n    mode: random\n  - name: a\n    mode: random\n", "c.yaml:4: classes[1].name: duplicate class"},
		{"unknown field", "classes:\n  - name: a\n    mood: random\n", "c.yaml:3: classes[0].mood: unknown field"},
		{"no classes", "server:\n  listen: 127.0.0.1:1\n", "c.yaml:1: classes: at least one data class is required"},
		{"bad retention", "classes:\n  - name: a\n    mode: random\n    retention: soon\n", "c.yaml:4: invalid duration"},
		{"grant unknown class", base + "policy:\n  grants:\n    - identity: app\n      purpose: payment\n      class: card\n      reveal: plain\n", "c.yaml:11: policy.grants[0].class: unknown class"},
		{"grant undeclared purpose", base + "policy:\n  purposes:\n    - name: payment\n  grants:\n    - identity: app\n      purpose: fun\n      class: email\n      reveal: plain\n", "c.yaml:12: policy.grants[0].purpose: purpose \"fun\" is not declared"},
		{"grant bad reveal", base + "policy:\n  grants:\n    - identity: app\n      purpose: payment\n      class: email\n      reveal: everything\n", "c.yaml:12: policy.grants[0].reveal: unknown reveal level"},
		{"grant bad pattern", base + "policy:\n  grants:\n    - identity: \"[\"\n      purpose: payment\n      class: email\n      reveal: plain\n", "c.yaml:9: policy.grants[0].identity: bad pattern"},
		{"quota without limits", base + "policy:\n  quotas:\n    - identity: app\n      purpose: payment\n", "c.yaml:9: policy.quotas[0].limits: at least one limit"},
		{"quota bad limit", base + "policy:\n  quotas:\n    - identity: app\n      purpose: payment\n      limits:\n        - {per: 1s, max: 0}\n", "c.yaml:12: policy.quotas[0].limits[0]: per and max must be positive"},
		{"honeytoken unknown class", base + "policy:\n  honeytokens:\n    - class: card\n      token: x\n", "c.yaml:9: policy.honeytokens[0].class: unknown class"},
		{"short token", "classes:\n  - name: a\n    mode: random\ncallers:\n  - identity: app\n    token: short\n", "c.yaml:6: callers[0].token: bearer token must be at least 16 characters"},
		{"syntax", "classes: [\n", "c.yaml:1:"},
		{"fpe without format", "classes:\n  - name: a\n    mode: fpe\n", "c.yaml:3: classes[0].mode: mode fpe needs a format"},
		{"unknown format", "classes:\n  - name: a\n    mode: fpe\n    format:\n      name: iban\n", "c.yaml:5: classes[0].format.name:"},
		{"bad keep_last", "classes:\n  - name: a\n    mode: fpe\n    format:\n      name: ssn\n      keep_last: 4\n", "c.yaml:6: classes[0].format.keep_last:"},
		{"bad algorithm", "classes:\n  - name: a\n    mode: fpe\n    algorithm: ff2\n    format:\n      name: digits\n", "c.yaml:4: classes[0].algorithm: unknown FPE algorithm"},
		{"algorithm on vaulted", "classes:\n  - name: a\n    mode: random\n    algorithm: ff1\n", "c.yaml:4: classes[0].algorithm: only fpe classes"},
		{"unknown audit sink", "classes:\n  - name: a\n    mode: random\naudit:\n  sink: kafka\n", "c.yaml:5: audit.sink: unknown audit sink \"kafka\" (want file or postgres)"},
		{"postgres sink on badger", "classes:\n  - name: a\n    mode: random\naudit:\n  sink: postgres\n", "c.yaml:5: audit.sink: audit.sink postgres keeps the chains in the store's database: it needs store.backend: postgres"},
		{"bad instance id", "classes:\n  - name: a\n    mode: random\naudit:\n  instance_id: two words\n", "c.yaml:5: audit.instance_id: must be 1 to 128 printable ASCII characters"},
		{"negative file sync interval", "classes:\n  - name: a\n    mode: random\naudit:\n  file_sync_interval: -1s\n", "c.yaml:5: invalid duration \"-1s\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("c.yaml", []byte(tt.yaml))
			var ce *config.Error
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%s) error = %v, want *config.Error containing %q", tt.name, err, tt.want)
			}
		})
	}
}

func TestTokenNotInErrors(t *testing.T) {
	secret := "secret-token-value-123"
	y := "classes:\n  - name: a\n    mode: random\ncallers:\n  - identity: one\n    token: " + secret + "\n  - identity: two\n    token: " + secret + "\n"
	_, err := config.Parse("c.yaml", []byte(y))
	if err == nil {
		t.Fatal("Parse(shared token) error = nil, want an error")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("Parse(shared token) error = %q; it repeats the bearer token", err)
	}
}

func TestDefaultsAndDays(t *testing.T) {
	c, err := config.Parse("c.yaml", []byte("classes:\n  - name: a\n    mode: random\n    retention: 30d\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != config.DefaultListen || c.Server.MaxBatch != config.DefaultMaxBatch || c.Server.MaxValueBytes != config.DefaultMaxValueBytes {
		t.Errorf("defaults = %+v, want listen %s, batch %d, value %d", c.Server, config.DefaultListen, config.DefaultMaxBatch, config.DefaultMaxValueBytes)
	}
	if got := c.Classes[0].Retention.Std().Hours(); got != 720 {
		t.Errorf("retention 30d = %vh, want 720h", got)
	}
}

// TestParsedFormat: a class without a format has none; a format the
// format package refuses is an error, not a nil format.
func TestParsedFormat(t *testing.T) {
	tests := []struct {
		name    string
		spec    *format.Spec
		wantNil bool
		wantErr bool
	}{
		{"none", nil, true, false},
		{"digits", &format.Spec{Name: "digits"}, false, false},
		{"unknown", &format.Spec{Name: "no-such-format"}, true, true},
	}
	for _, tt := range tests {
		f, err := config.Class{Name: "c", Format: tt.spec}.ParsedFormat()
		if (f == nil) != tt.wantNil || (err != nil) != tt.wantErr {
			t.Errorf("%s: ParsedFormat() = %v, %v; want nil format %v, error %v", tt.name, f, err, tt.wantNil, tt.wantErr)
		}
	}
}
