package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
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
	key     string // stable name, e.g. "tok/rnd/1/8"
	clients int
	run     op
	// server is the CPU time of the process that serves the point; nil
	// for points the bench runs in its own process.
	server cpuSource
}

// stats is the outcome of all rounds of one point.
type stats struct {
	rates []float64 // values per second, one per round
	lat   []time.Duration
	// Totals over all rounds, for CPU per call: calls and values made,
	// CPU time of the serving process (when the point has one) and of the
	// bench process itself.
	calls, values       int
	serverCPU, benchCPU time.Duration
	hasServerCPU        bool
	idle, wall          time.Duration // machine idle time (all cores) and wall time of the rounds
}

// cpuPerCall returns the server's and the bench's CPU time per call.
func (s *stats) cpuPerCall() (server, bench time.Duration) {
	if s.calls == 0 {
		return 0, 0
	}
	return s.serverCPU / time.Duration(s.calls), s.benchCPU / time.Duration(s.calls)
}

// idleShare is the fraction of the machine's CPU time left idle during
// the point's rounds.
func (s *stats) idleShare() float64 {
	if s.wall == 0 {
		return 0
	}
	return float64(s.idle) / float64(s.wall*time.Duration(runtime.NumCPU()))
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

// measure runs p for d from p.clients goroutines and adds the round to st,
// with the CPU time it cost the serving process and the bench.
// Any call error fails the bench: a fast error is not a result.
func measure(p point, d time.Duration, st *stats) error {
	var s0 time.Duration
	if p.server != nil {
		var err error
		if s0, err = p.server(); err != nil {
			return fmt.Errorf("%s: server CPU: %w", p.key, err)
		}
	}
	b0, i0, w0 := selfCPU(), idleTicks(), time.Now()
	calls, err := measureCalls(p, d, st)
	st.benchCPU += selfCPU() - b0
	st.idle += idleTicks() - i0
	st.wall += time.Since(w0)
	st.calls += calls
	if p.server != nil {
		s1, serr := p.server()
		if serr != nil {
			return errors.Join(err, fmt.Errorf("%s: server CPU: %w", p.key, serr))
		}
		st.serverCPU += s1 - s0
		st.hasServerCPU = true
	}
	return err
}

// measureCalls is one round of measure; it returns the calls made.
func measureCalls(p point, d time.Duration, st *stats) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	var (
		mu     sync.Mutex
		values int
		calls  int
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
			calls += len(lat)
			st.lat = append(st.lat, lat...)
			if err != nil && first == nil {
				first = fmt.Errorf("%s: %w", p.key, err)
			}
		}()
	}
	wg.Wait()
	st.rates = append(st.rates, float64(values)/time.Since(start).Seconds())
	st.values += values
	return calls, first
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
				sc, bc := st.cpuPerCall()
				server := "    —"
				if st.hasServerCPU {
					server = fmt.Sprintf("%5.0f", float64(sc)/1e3)
				}
				logf("%-28s %10.0f values/s  p50 %-9s p99 %-9s CPU µs/call server %s bench %5.0f  idle %3.0f%%",
					p.key, st.rate(), round(st.pct(0.5)), round(st.pct(0.99)), server, float64(bc)/1e3, 100*st.idleShare())
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
