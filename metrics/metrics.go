// Package metrics holds the sidecar's Prometheus metrics (client_golang)
// and serves them. Label values are fixed kinds, codes and names declared
// in the configuration (classes, purposes, gRPC methods), never values,
// tokens, subjects or free text: metrics leave the process.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/internal/version"
)

// Namespace prefixes every privacyvault metric.
const Namespace = "privacyvault"

// latencyBuckets suit an fsync'd write: sub-millisecond on fast disks,
// hundreds of milliseconds on a struggling volume.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// Registry holds the sidecar's metrics. It is safe for concurrent use.
type Registry struct {
	reg *prometheus.Registry

	alerts        *prometheus.CounterVec
	auditFailures prometheus.Counter
	reloads       *prometheus.CounterVec
	tokenized     *prometheus.CounterVec
	detokenized   *prometheus.CounterVec
	denied        *prometheus.CounterVec
	itemErrors    *prometheus.CounterVec
	auditAppend   prometheus.Histogram
	storeCommit   *prometheus.HistogramVec
	keyRefreshes  *prometheus.CounterVec
	providerUp    prometheus.Gauge
	grpc          *grpcprom.ServerMetrics
}

// New returns a registry with every privacyvault metric, the gRPC server
// metrics, the Go runtime and process collectors and privacyvault_build_info.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	f := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
		r.reg.MustRegister(c)
		return c
	}
	r.alerts = f("alerts_total", "Breach-detection alerts raised, by kind (quota, honeytoken, denied_burst).", "kind")
	r.auditFailures = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "audit_failures_total",
		Help: "Calls refused because the audit event could not be written (fail-closed)."})
	r.reg.MustRegister(r.auditFailures)
	r.reloads = f("policy_reloads_total", "Policy reloads, by result (ok, error).", "result")
	r.tokenized = f("tokenized_total", "Items given a token, by operation (tokenize, lookup), class and mode.", "op", "class", "mode")
	r.detokenized = f("detokenized_total", "Items revealed by detokenize, by class, mode, purpose and reveal level.", "class", "mode", "purpose", "reveal")
	r.denied = f("denied_total", "Items refused by policy, consent, honeytoken or quota, by operation, class, mode, purpose and reason.", "op", "class", "mode", "purpose", "reason")
	r.itemErrors = f("item_errors_total", "Items that failed (invalid, not_found, expired, retired), by operation, class, mode and reason.", "op", "class", "mode", "reason")
	r.keyRefreshes = f("key_refreshes_total", "Keyring refreshes from the key provider, by result (ok, error).", "result")
	r.auditAppend = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "audit_append_seconds",
		Help: "Time to append one audit event durably (fsync'd, group-committed).", Buckets: latencyBuckets})
	r.storeCommit = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "store_commit_seconds",
		Help: "Time to commit a store write durably, by operation.", Buckets: latencyBuckets}, []string{"op"})
	r.providerUp = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "key_provider_up",
		Help: "1 when the last keyring refresh reached the key provider, 0 when it failed."})
	// Series that alerts watch exist from the start at 0, so that the
	// first event is an increase rather than a new series.
	for _, kind := range []audit.Alert{audit.AlertQuota, audit.AlertHoneytoken, audit.AlertDeniedBurst} {
		r.alerts.WithLabelValues(string(kind))
	}
	for _, res := range []string{"ok", "error"} {
		r.reloads.WithLabelValues(res)
		r.keyRefreshes.WithLabelValues(res)
	}
	r.grpc = grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	bi := version.Get()
	build := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "build_info",
		Help: "Always 1; labels name the running build.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "revision": bi.Revision, "goversion": bi.GoVersion,
			"modified": strconv.FormatBool(bi.Modified)}})
	build.Set(1)
	r.reg.MustRegister(r.auditAppend, r.storeCommit, r.providerUp, r.grpc, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Handler serves the registry in the Prometheus exposition formats.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg, EnableOpenMetrics: true})
}

// Registerer lets other parts of the sidecar add collectors.
func (r *Registry) Registerer() prometheus.Registerer { return r.reg }

// GRPC returns the gRPC server metrics (calls started and handled by
// service, method and code; handling-time histograms) and their interceptors.
func (r *Registry) GRPC() *grpcprom.ServerMetrics { return r.grpc }

var _ core.AlertSink = (*Registry)(nil)

// Alert counts one alert of kind.
func (r *Registry) Alert(kind string) { r.alerts.WithLabelValues(kind).Inc() }

// AuditFailed counts a call refused because its audit event could not be written.
func (r *Registry) AuditFailed() { r.auditFailures.Inc() }

// PolicyReload counts a policy reload.
func (r *Registry) PolicyReload(err error) { r.reloads.WithLabelValues(result(err)).Inc() }

// Items counts n items of one outcome of the data plane.
func (r *Registry) Items(o core.Outcome, n int) {
	v := float64(n)
	switch o.Result {
	case core.ResultOK:
		if o.Op == "detokenize" {
			r.detokenized.WithLabelValues(o.Class, o.Mode, o.Purpose, o.Reason).Add(v)
			return
		}
		r.tokenized.WithLabelValues(o.Op, o.Class, o.Mode).Add(v)
	case core.ResultDenied:
		r.denied.WithLabelValues(o.Op, o.Class, o.Mode, o.Purpose, o.Reason).Add(v)
	default:
		r.itemErrors.WithLabelValues(o.Op, o.Class, o.Mode, o.Reason).Add(v)
	}
}

// KeyRefresh records the result of a keyring refresh.
func (r *Registry) KeyRefresh(err error) {
	r.keyRefreshes.WithLabelValues(result(err)).Inc()
	if err != nil {
		r.providerUp.Set(0)
		return
	}
	r.providerUp.Set(1)
}

// AuditAppend records how long one audit append took.
func (r *Registry) AuditAppend(d time.Duration) { r.auditAppend.Observe(d.Seconds()) }

// StoreCommit records how long one store write of op took.
func (r *Registry) StoreCommit(op string, d time.Duration) {
	r.storeCommit.WithLabelValues(op).Observe(d.Seconds())
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}
