// Package quota counts detokenized items per identity and purpose against
// several fixed windows at once (say 50 per second and 10,000 per day). It
// keeps its counters in memory: each sidecar enforces its own quotas, and
// a restart starts the windows afresh.
package quota

import (
	"sync"
	"time"

	"github.com/privacyvault/privacyvault/policy"
)

// Limiter counts usage. It is safe for concurrent use.
type Limiter struct {
	mu      sync.Mutex
	windows map[key]*window
}

type key struct {
	identity, purpose string
	per               time.Duration
}

type window struct {
	start time.Time
	used  int
}

// New returns an empty limiter.
func New() *Limiter { return &Limiter{windows: map[key]*window{}} }

// Take records n items for identity and purpose at now if every limit has
// room for them, and returns ok. Otherwise it records nothing and returns
// the first limit that would be exceeded. Windows are aligned to multiples
// of their length since the Unix epoch.
func (l *Limiter) Take(identity, purpose string, n int, limits []policy.Limit, now time.Time) (exceeded policy.Limit, ok bool) {
	if len(limits) == 0 {
		return policy.Limit{}, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ws := make([]*window, len(limits))
	for i, lim := range limits {
		k := key{identity, purpose, lim.Per}
		w := l.windows[k]
		start := now.Truncate(lim.Per)
		if w == nil || !w.start.Equal(start) {
			w = &window{start: start}
			l.windows[k] = w
		}
		if w.used+n > lim.Max {
			return lim, false
		}
		ws[i] = w
	}
	for _, w := range ws {
		w.used += n
	}
	return policy.Limit{}, true
}
