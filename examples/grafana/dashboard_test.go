// Package grafana_test checks the Grafana dashboard and the Prometheus
// alert rules against the metrics a real sidecar exports.
package grafana_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// exported returns every series name a sidecar exports after some traffic
// (histograms with their _bucket, _sum and _count series).
func exported(t *testing.T) map[string]bool {
	t.Helper()
	cfg := strings.Replace(string(examples.Config), `listen: ""`, `listen: "127.0.0.1:0"`, 1)
	h := servertest.Start(t, servertest.Options{Config: []byte(cfg)})
	ctx := context.Background()
	app := h.Client("dev-checkout-token-0001")
	res, err := app.TokenizeBatch(ctx, []client.TokenizeItem{
		{Class: "card_number", Value: []byte("4111111111111111")},
		{Class: "email", Value: []byte("not an e-mail")},
	})
	if err != nil {
		t.Fatalf("TokenizeBatch() error = %v", err)
	}
	if _, err := app.Detokenize(ctx, "payment", "card_number", res[0].Token); err != nil {
		t.Fatalf("Detokenize() error = %v", err)
	}
	if _, err := app.Detokenize(ctx, "analytics", "card_number", res[0].Token); err == nil {
		t.Fatal("Detokenize(analytics) succeeded, want PermissionDenied")
	}
	resp, err := http.Get("http://" + h.Server.MetricsAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	names := map[string]bool{}
	for name, mf := range mfs {
		names[name] = true
		if mf.GetType().String() == "HISTOGRAM" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[name+s] = true
			}
		}
	}
	return names
}

var metricName = regexp.MustCompile(`\b(?:privacyvault|grpc_server|process|go)_[a-z0-9_]+\b`)

// grafanaVars stand in for Grafana's variables so an expression parses as PromQL.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__range", "1h", "$instance", ".*")

func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("privacyvault.json")
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		ID         int
		Type       string
		Datasource struct{ UID string }
		GridPos    struct{ X, W int }
		Targets    []struct{ Expr string }
		Panels     []json.RawMessage
	}
	var d struct {
		UID        string
		Title      string
		Panels     []panel
		Templating struct {
			List []struct {
				Name  string
				Query any
			}
		}
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("privacyvault.json: %v", err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("dashboard uid %q title %q with %d panels, want all set", d.UID, d.Title, len(d.Panels))
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	var exprs []string
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %d overflows the 24-column grid", p.ID)
		}
		if p.Type == "row" {
			continue
		}
		if uid := strings.Trim(p.Datasource.UID, "${}"); !vars[uid] {
			t.Errorf("panel %d uses data source %q, not a dashboard variable", p.ID, p.Datasource.UID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %d has no query", p.ID)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	return exprs
}

func alertExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rf struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	var exprs []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	return exprs
}

// TestQueriesNameExportedMetrics: every dashboard query and alert rule
// names only metrics a running sidecar exports, and every dashboard query
// is valid PromQL (checked by promtool).
func TestQueriesNameExportedMetrics(t *testing.T) {
	names := exported(t)
	dash, alerts := dashboardExprs(t), alertExprs(t)
	if len(dash) < 10 || len(alerts) < 6 {
		t.Fatalf("found %d dashboard and %d alert queries, want the full sets", len(dash), len(alerts))
	}
	for _, e := range append(dash, alerts...) {
		used := metricName.FindAllString(e, -1)
		if len(used) == 0 {
			t.Errorf("query names no privacyvault metric: %s", e)
		}
		for _, n := range used {
			if !names[n] {
				t.Errorf("query uses %s, which the sidecar does not export: %s", n, e)
			}
		}
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found (Debian package prometheus; `make promtool` installs it): %v", err)
	}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range dash {
		q, _ := json.Marshal(grafanaVars.Replace(e)) // a JSON string is a YAML string
		fmt.Fprintf(&rules, "      - record: dashboard:query_%d\n        expr: %s\n", i, q)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yaml")
	if err := os.WriteFile(path, []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules (dashboard queries): %v\n%s", err, out)
	}
}
