package main

import (
	"strings"
	"testing"
	"time"
)

func TestCPUCell(t *testing.T) {
	tests := []struct {
		name string
		s    *stats
		want string
	}{
		{"not measured", &stats{}, "—"},
		{"unary, served out of process", &stats{calls: 4, values: 4, serverCPU: 800 * time.Microsecond, benchCPU: 400 * time.Microsecond, hasServerCPU: true}, "200 · 100"},
		{"unary, in this process", &stats{calls: 4, values: 4, benchCPU: 400 * time.Microsecond}, "— · 100"},
		{"batch adds per value", &stats{calls: 2, values: 2000, serverCPU: 10 * time.Millisecond, benchCPU: 4 * time.Millisecond, hasServerCPU: true}, "5,000 · 2,000 (5.0 · 2.0 per value)"},
	}
	for _, tt := range tests {
		if got := cpuCell(tt.s); got != tt.want {
			t.Errorf("%s: cpuCell() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// The targets table is computed from the run's figures: met, missed, and
// "—" for a figure the run did not measure.
func TestTargetsFromFigures(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	r := &report{figures: map[string]*stats{
		"empty/sidecar/8": {rates: []float64{100}},
		"empty/bare/8":    {rates: []float64{120}},
		"tok/rnd/1/8":     {rates: []float64{60}},
		"floor/sync1/8":   {rates: []float64{90}},
		"floor/sync2/8":   {rates: []float64{60}},
		"empty/sidecar/1": {rates: []float64{1}, lat: []time.Duration{ms(0.1)}},
		"fsync/1":         {rates: []float64{1}, lat: []time.Duration{ms(0.2)}},
		"tok/rnd/1/1":     {rates: []float64{1}, lat: []time.Duration{ms(1)}},
		"tok/det/1/1":     {rates: []float64{1}, lat: []time.Duration{ms(0.3)}},
		"floor/sync1/1":   {rates: []float64{1}, lat: []time.Duration{ms(0.5)}},
	}, aesNs: 16, ff1Ns: 240, ff1Allocs: 1}
	got := map[string]target{}
	for _, tt := range r.targets() {
		got[tt.what] = tt
	}
	tests := []struct {
		what, got, met, floorPart, floorMet string
	}{
		{"unary tokenize rnd, 8 clients ÷ sidecar empty call", "0.60", "yes", "1 file 0.75, 2 files 0.50", "yes"},
		{"unary tokenize det, 8 clients ÷ sidecar empty call", "—", "—", "", "yes"},
		{"unary tokenize fpe, 8 clients ÷ sidecar empty call", "—", "—", "", "yes"},
		{"unary tokenize fpe, 8 clients ÷ Transit encrypt", "—", "—", "", "—"},
		{"unary tokenize rnd, 1 client: p50 ms ≤ empty call p50 + 1.5 × fsync p50", "1.00", "no", "", "no"},
		{"unary tokenize det, 1 client: p50 ms ≤ empty call p50 + 1.5 × fsync p50", "0.30", "yes", "", "no"},
		{"sidecar empty call ÷ bare grpc-go, 8 clients", "0.83", "no", "", ""},
		{"FF1 on 16 digits: AES-256 block times · allocations", "15.00 · 1", "yes", "", ""},
		{"1,000,000 tokens: peak RSS while loading (MiB)", "—", "—", "", ""},
		{"batch of 1,000, 1 caller: p99 ÷ p50 of the worst point", "—", "—", "", "—"},
	}
	for _, tt := range tests {
		row, ok := got[tt.what]
		if !ok {
			t.Errorf("no target %q", tt.what)
			continue
		}
		if row.got != tt.got || row.met != tt.met || !strings.Contains(row.floor, tt.floorPart) || row.floorMet != tt.floorMet {
			t.Errorf("target %q = %q, met %q, floor %q (meets %q); want %q, met %q, floor containing %q (meets %q)",
				tt.what, row.got, row.met, row.floor, row.floorMet, tt.got, tt.met, tt.floorPart, tt.floorMet)
		}
	}
}

// The random detokenize target's Badger floor is the faster of the two
// read floors (every core, one goroutine).
func TestDetokenizeTargetTakesFasterReadFloor(t *testing.T) {
	const what = "batch of 1,000 detokenize rnd, 1 caller ÷ Transit `batch_input` decrypt"
	tests := []struct {
		name             string
		every, one       float64
		floorPart, meets string
	}{
		{"every core faster", 260, 190, "Badger read batch (every core) ÷ Transit 2.60", "yes"},
		{"one goroutine faster", 180, 250, "Badger read batch (one goroutine) ÷ Transit 2.50", "yes"},
		{"both short of 2", 150, 190, "Badger read batch (one goroutine) ÷ Transit 1.90", "no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &report{figures: map[string]*stats{
				"dec/transit/1000/1":        {rates: []float64{100}},
				"detok/rnd/1000/1":          {rates: []float64{150}},
				"floor/badger/read/1000/1":  {rates: []float64{tt.every}},
				"floor/badger/read1/1000/1": {rates: []float64{tt.one}},
			}}
			var row *target
			for _, tg := range r.targets() {
				if tg.what == what {
					row = &tg
				}
			}
			if row == nil {
				t.Fatalf("no target %q", what)
			}
			if !strings.Contains(row.floor, tt.floorPart) || row.floorMet != tt.meets {
				t.Errorf("floor = %q (meets %q), want containing %q (meets %q)", row.floor, row.floorMet, tt.floorPart, tt.meets)
			}
		})
	}
}
