package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/privacyvault/privacyvault/core"
)

// keyCollector reads the data plane's cached key state at scrape time, so
// the age of the last refresh is exact without a ticking goroutine.
type keyCollector struct {
	health   func() core.KeyHealth
	interval time.Duration
	now      func() time.Time

	lastRefresh, age, grace, refreshInterval, versions, current, minDecrypt *prometheus.Desc
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
}

// WatchKeys exports the key state health returns: time and age of the last
// complete keyring refresh, the grace period and refresh interval, and
// each class's keyring versions.
func (r *Registry) WatchKeys(health func() core.KeyHealth, refreshInterval time.Duration) {
	r.reg.MustRegister(&keyCollector{
		health: health, interval: refreshInterval, now: time.Now,
		lastRefresh:     desc("keys_last_refresh_timestamp_seconds", "Unix time of the last complete keyring refresh from the key provider."),
		age:             desc("keys_last_refresh_age_seconds", "Seconds since the last complete keyring refresh from the key provider."),
		grace:           desc("keys_grace_period_seconds", "How long cached keys keep serving after the last refresh (0: forever, development provider)."),
		refreshInterval: desc("keys_refresh_interval_seconds", "Configured keyring refresh interval."),
		versions:        desc("keyring_versions", "Key versions in the class's keyring.", "class", "mode"),
		current:         desc("keyring_current_version", "Key version new values of the class are sealed with.", "class"),
		minDecrypt:      desc("keyring_min_decryption_version", "Lowest key version of the class that still decrypts.", "class"),
	})
}

func (c *keyCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.lastRefresh, c.age, c.grace, c.refreshInterval, c.versions, c.current, c.minDecrypt} {
		ch <- d
	}
}

func (c *keyCollector) Collect(ch chan<- prometheus.Metric) {
	h := c.health()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(c.lastRefresh, float64(h.LastRefresh.UnixNano())/1e9)
	gauge(c.age, c.now().Sub(h.LastRefresh).Seconds())
	gauge(c.grace, h.GracePeriod.Seconds())
	gauge(c.refreshInterval, c.interval.Seconds())
	for _, k := range h.Classes {
		gauge(c.versions, float64(k.Versions), k.Class, k.Mode)
		gauge(c.current, float64(k.Current), k.Class)
		gauge(c.minDecrypt, float64(k.MinDecryptionVersion), k.Class)
	}
}

// WatchStoreSize exports the store's size on disk, read at scrape time:
// size returns its parts by name (Badger: lsm, vlog).
func (r *Registry) WatchStoreSize(size func() map[string]int64) {
	d := desc("store_size_bytes", "Size of the embedded store on disk, by part.", "part")
	r.reg.MustRegister(collectorFunc{d, func(ch chan<- prometheus.Metric) {
		for part, n := range size() {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(n), part)
		}
	}})
}

type collectorFunc struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

// Get returns the value of the counter or gauge name with exactly the
// given label pairs ("kind", "quota"), or 0 (for tests).
func (r *Registry) Get(name string, labels ...string) float64 {
	mfs, err := r.reg.Gather()
	if err != nil {
		return 0
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(want) {
				continue
			}
			match := true
			for _, l := range m.GetLabel() {
				if want[l.GetName()] != l.GetValue() {
					match = false
				}
			}
			if !match {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
	}
	return 0
}
