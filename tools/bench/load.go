package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"
)

// op performs one call on behalf of worker w; it returns how many values
// the call handled.
type op func(ctx context.Context, w int, rng *rand.Rand) (int, error)

// point is one measured configuration.
type point struct {
	key     string // stable name, e.g. "tok/rnd/unary/8"
	clients int
	run     op
}

// stats is the outcome of all rounds of one point.
type stats struct {
	rates []float64 // values per second, one per round
	lat   []time.Duration
}

func (s *stats) rate() float64 {
	if len(s.rates) == 0 {
		return 0
	}
	r := slices.Clone(s.rates)
	sort.Float64s(r)
	return r[len(r)/2]
}

func (s *stats) pct(p float64) time.Duration {
	if len(s.lat) == 0 {
		return 0
	}
	slices.Sort(s.lat)
	return s.lat[min(len(s.lat)-1, int(p*float64(len(s.lat))))]
}

// measure runs p for d from p.clients goroutines and adds the round to st.
// Any call error fails the bench: a fast error is not a result.
func measure(p point, d time.Duration, st *stats) error {
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	var (
		mu     sync.Mutex
		values int
		first  error
		wg     sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(d)
	for w := range p.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			var lat []time.Duration
			n := 0
			var err error
			for time.Now().Before(end) {
				t := time.Now()
				var k int
				k, err = p.run(ctx, w, rng)
				if err != nil {
					break
				}
				lat = append(lat, time.Since(t))
				n += k
			}
			mu.Lock()
			defer mu.Unlock()
			values += n
			st.lat = append(st.lat, lat...)
			if err != nil && first == nil {
				first = fmt.Errorf("%s: %w", p.key, err)
			}
		}()
	}
	wg.Wait()
	st.rates = append(st.rates, float64(values)/time.Since(start).Seconds())
	return first
}

// measureAll runs rounds of every point in turn (a, b, c, a, b, c, …) so
// that noise on the shared machine hits all sides alike.
func measureAll(points []point, rounds int, d time.Duration, into map[string]*stats) error {
	for r := range rounds {
		for _, p := range points {
			st := into[p.key]
			if st == nil {
				st = &stats{}
				into[p.key] = st
			}
			if err := measure(p, d, st); err != nil {
				return err
			}
			if r == rounds-1 {
				logf("%-28s %10.0f values/s  p50 %-9s p99 %s", p.key, st.rate(), round(st.pct(0.5)), round(st.pct(0.99)))
			}
		}
	}
	return nil
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= 100*time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d.Round(100 * time.Nanosecond)
}
