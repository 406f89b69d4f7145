package examples_test

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/privacyvault/privacyvault/config"
)

// The fleet sample configuration is valid, selects the PostgreSQL store
// with shared Vault keys, and is what the Kubernetes fleet manifest runs.
func TestFleetSampleConfig(t *testing.T) {
	sample, err := os.ReadFile("fleet-postgres.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("fleet-postgres.yaml", sample)
	if err != nil {
		t.Fatalf("config.Parse(fleet-postgres.yaml) error = %v", err)
	}
	if cfg.Store.Backend != config.BackendPostgres || cfg.Keys.Provider != "vault" || cfg.Store.Postgres.DSNFile == "" || cfg.Store.Postgres.CAFile == "" {
		t.Errorf("fleet sample: store %q, keys %q, dsn_file %q, ca_file %q; want postgres with a DSN file and CA, keys in vault",
			cfg.Store.Backend, cfg.Keys.Provider, cfg.Store.Postgres.DSNFile, cfg.Store.Postgres.CAFile)
	}
	manifest, err := os.ReadFile("k8s/fleet-postgres.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var inManifest string
	for _, doc := range strings.Split(string(manifest), "\n---\n") {
		var cm struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
		}
		if err := yaml.Unmarshal([]byte(doc+"\n"), &cm); err != nil {
			t.Fatalf("k8s/fleet-postgres.yaml: %v", err)
		}
		if cm.Kind == "ConfigMap" {
			inManifest = cm.Data["config.yaml"]
		}
	}
	_, body, _ := strings.Cut(string(sample), "\nserver:")
	if want := "server:" + body; inManifest != want {
		t.Errorf("the ConfigMap of k8s/fleet-postgres.yaml differs from fleet-postgres.yaml (from server: on); keep them equal:\n%q\n%q", inManifest, want)
	}
}
