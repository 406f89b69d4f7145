// Package metrics keeps the sidecar's counters and serves them in the
// Prometheus text format. Label values are fixed kinds and codes, never
// identities, tokens or values: metrics leave the process.
package metrics

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Registry holds counters. It is safe for concurrent use.
type Registry struct {
	mu       sync.Mutex
	counters map[string]*counter
}

type counter struct {
	help   string
	values map[string]float64 // rendered label set → value
}

// New returns an empty registry.
func New() *Registry { return &Registry{counters: map[string]*counter{}} }

// Add adds v to the counter name with the given label pairs
// ("kind", "quota"). The first call for a name sets its help text.
func (r *Registry) Add(name, help string, v float64, labels ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.counters[name]
	if c == nil {
		c = &counter{help: help, values: map[string]float64{}}
		r.counters[name] = c
	}
	c.values[renderLabels(labels)] += v
}

// Get returns the counter's value for the label pairs (for tests).
func (r *Registry) Get(name string, labels ...string) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.counters[name]; c != nil {
		return c.values[renderLabels(labels)]
	}
	return 0
}

func renderLabels(kv []string) string {
	if len(kv) == 0 {
		return ""
	}
	parts := make([]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		v := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(kv[i+1])
		parts = append(parts, fmt.Sprintf("%s=%q", kv[i], v))
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// WriteTo writes every counter in the Prometheus text format.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.counters))
	for n := range r.counters {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		c := r.counters[n]
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", n, c.help, n)
		sets := make([]string, 0, len(c.values))
		for l := range c.values {
			sets = append(sets, l)
		}
		sort.Strings(sets)
		for _, l := range sets {
			fmt.Fprintf(&b, "%s%s %g\n", n, l, c.values[l])
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// Handler serves the registry at any path.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		r.WriteTo(w)
	})
}

// Alerts adapts the registry to the data plane's alert sink.
type Alerts struct{ R *Registry }

// Alert counts one alert of kind.
func (a Alerts) Alert(kind string) {
	a.R.Add("privacyvault_alerts_total", "Breach-detection alerts raised, by kind.", 1, "kind", kind)
}

// AuditFailed counts a call refused because its audit event could not be written.
func (a Alerts) AuditFailed() {
	a.R.Add("privacyvault_audit_failures_total", "Calls refused because the audit event could not be written.", 1)
}
