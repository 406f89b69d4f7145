package main

import (
	"fmt"
	"time"
)

// target is one row of the issue 11 targets table.
type target struct {
	what, got, want string
	met             string // "yes", "no", or "—" when this run did not measure it
	floor           string // what the floors of the same run reach, or ""
	floorMet        string // whether the (least) floor meets the target itself; "" without a floor
}

// floorFig is a floor's figure on a target's comparison.
type floorFig struct {
	text     string
	x        float64
	measured bool
}

// ratioFloor is a floor's a÷b, described by text.
func ratioFloor(text string, a, b float64) floorFig {
	return floorFig{text: text, x: a / max(b, 1e-12), measured: a > 0 && b > 0}
}

// verdict says whether ok holds, or "—" when the figure is missing.
func verdict(measured, ok bool) string {
	switch {
	case !measured:
		return "—"
	case ok:
		return "yes"
	}
	return "no"
}

// atLeastRatio compares a÷b with want (both figures must be measured).
func atLeastRatio(what string, a, b *stats, want float64, fl floorFig) target {
	measured := a.rate() > 0 && b.rate() > 0
	got := "—"
	if measured {
		got = ratio(a.rate(), b.rate())
	}
	return target{what: what, got: got, want: fmt.Sprintf("≥ %.2f", want),
		met: verdict(measured, measured && a.rate()/b.rate() >= want), floor: fl.text, floorMet: fl.meets(want)}
}

// meets says whether the floor reaches at least want ("" without a floor).
func (f floorFig) meets(want float64) string {
	if f.text == "" {
		return ""
	}
	return verdict(f.measured, f.measured && f.x >= want)
}

// targets computes every issue 11 target from this run's figures.
func (r *report) targets() []target {
	g := r.get
	emptySide8, bare8 := g("empty/sidecar/8"), g("empty/bare/8")
	emptySide1, fs := g("empty/sidecar/1"), g("fsync/1")
	enc8, dec8 := g("enc/transit/1/8"), g("dec/transit/1/8")
	encB, decB := g(fmt.Sprintf("enc/transit/%d/1", batch)), g(fmt.Sprintf("dec/transit/%d/1", batch))
	sync1, sync2 := g("floor/sync1/8"), g("floor/sync2/8")

	// The durable floor against the bare empty call and against Transit.
	vsEmpty := ratioFloor(fmt.Sprintf("durable floor ÷ bare empty call, 8 clients: 1 file %s, 2 files %s", ratio(sync1.rate(), bare8.rate()), ratio(sync2.rate(), bare8.rate())),
		sync1.rate(), bare8.rate())
	vsTransit := func(t *stats) floorFig {
		return ratioFloor(fmt.Sprintf("durable floor (1 file, 8 clients) ÷ Transit: %s", ratio(sync1.rate(), t.rate())), sync1.rate(), t.rate())
	}
	var out []target
	for _, class := range []string{"rnd", "det"} {
		out = append(out, atLeastRatio(fmt.Sprintf("unary tokenize %s, 8 clients ÷ sidecar empty call", class),
			g("tok/"+class+"/1/8"), emptySide8, 0.5, vsEmpty))
	}
	bound := emptySide1.pct(.5) + time.Duration(1.5*float64(fs.pct(.5)))
	f1, f2 := g("floor/sync1/1"), g("floor/sync2/1")
	for _, class := range []string{"rnd", "det"} {
		s := g("tok/" + class + "/1/1")
		measured := len(s.lat) > 0 && len(emptySide1.lat) > 0 && len(fs.lat) > 0
		out = append(out, target{
			what:     fmt.Sprintf("unary tokenize %s, 1 client: p50 ms ≤ empty call p50 + 1.5 × fsync p50", class),
			got:      orDash(measured, ms(s.pct(.5))),
			want:     fmt.Sprintf("≤ %s (%s + 1.5 × %s)", ms(bound), ms(emptySide1.pct(.5)), ms(fs.pct(.5))),
			met:      verdict(measured, measured && s.pct(.5) <= bound),
			floor:    fmt.Sprintf("durable floor p50, 1 client: 1 file %s ms, 2 files %s ms", ms(f1.pct(.5)), ms(f2.pct(.5))),
			floorMet: verdict(measured && len(f1.lat) > 0, f1.pct(.5) <= bound),
		})
	}
	for _, k := range []struct{ op, class, what string }{
		{"tok", "fpe", "unary tokenize fpe"},
		{"detok", "rnd", "unary detokenize rnd"},
		{"detok", "det", "unary detokenize det"},
		{"detok", "fpe", "unary detokenize fpe"},
	} {
		s := g(k.op + "/" + k.class + "/1/8")
		t, verb := enc8, "encrypt"
		if k.op == "detok" {
			t, verb = dec8, "decrypt"
		}
		out = append(out,
			atLeastRatio(k.what+", 8 clients ÷ sidecar empty call", s, emptySide8, 0.65, vsEmpty),
			atLeastRatio(k.what+", 8 clients ÷ Transit "+verb, s, t, 0.8, vsTransit(t)))
	}
	bw, br := g(fmt.Sprintf("floor/badger/write/%d/1", batch)), g(fmt.Sprintf("floor/badger/read/%d/1", batch))
	// Reading on every core is faster only when a core is free: the
	// floor is the faster of the two ways.
	brHow := "every core"
	if br1 := g(fmt.Sprintf("floor/badger/read1/%d/1", batch)); br1.rate() > br.rate() {
		br, brHow = br1, "one goroutine"
	}
	pw, pr := g(fmt.Sprintf("floor/pg/copy/%d/1", batch)), g(fmt.Sprintf("floor/pg/any/%d/1", batch))
	writeFloor := ratioFloor(fmt.Sprintf("Badger write batch ÷ Transit %s, PostgreSQL COPY ÷ Transit %s", ratio(bw.rate(), encB.rate()), ratio(pw.rate(), encB.rate())),
		bw.rate(), encB.rate())
	// An fpe batch needs 1,000 FF1 encryptions and one durable audit
	// append: its floor is computed from this run's FF1 time and fsync p50.
	var fpeFloor floorFig
	if r.ff1Ns > 0 && len(fs.lat) > 0 {
		perBatch := time.Duration(batch*r.ff1Ns) + fs.pct(.5)
		rate := float64(batch) / perBatch.Seconds()
		fpeFloor = ratioFloor(fmt.Sprintf("1,000 FF1 + one fsync p50 (computed: %s values/s) ÷ Transit %s", num(rate), ratio(rate, encB.rate())), rate, encB.rate())
	}
	bk := func(op, class string) *stats { return g(fmt.Sprintf("%s/%s/%d/1", op, class, batch)) }
	out = append(out,
		atLeastRatio("batch of 1,000 tokenize fpe, 1 caller ÷ Transit `batch_input` encrypt", bk("tok", "fpe"), encB, 4, fpeFloor),
		atLeastRatio("batch of 1,000 tokenize rnd, 1 caller ÷ Transit `batch_input` encrypt", bk("tok", "rnd"), encB, 1.5, writeFloor),
		atLeastRatio("batch of 1,000 tokenize det, 1 caller ÷ Transit `batch_input` encrypt", bk("tok", "det"), encB, 1, writeFloor),
		atLeastRatio("batch of 1,000 detokenize rnd, 1 caller ÷ Transit `batch_input` decrypt", bk("detok", "rnd"), decB, 2,
			ratioFloor(fmt.Sprintf("Badger read batch (%s) ÷ Transit %s, PostgreSQL `= ANY` ÷ Transit %s", brHow, ratio(br.rate(), decB.rate()), ratio(pr.rate(), decB.rate())),
				br.rate(), decB.rate())))
	// p99 ≤ 3 × p50 on every batch point of one caller: the worst one.
	worst, worstKey, measured := 0.0, "", true
	for _, op := range []string{"tok", "detok"} {
		for _, class := range classes {
			s := bk(op, class)
			if s.pct(.5) == 0 {
				measured = false
				continue
			}
			if q := float64(s.pct(.99)) / float64(s.pct(.5)); q > worst {
				worst, worstKey = q, fmt.Sprintf("%s/%s/%d/1", op, class, batch)
			}
		}
	}
	out = append(out, target{what: "batch of 1,000, 1 caller: p99 ÷ p50 of the worst point", got: orDash(measured, fmt.Sprintf("%.2f (%s)", worst, worstKey)), want: "≤ 3",
		met:      verdict(measured, measured && worst <= 3),
		floor:    fmt.Sprintf("Badger write batch %s, PostgreSQL COPY %s", pctRatio(bw), pctRatio(pw)),
		floorMet: verdict(bw.pct(.5) > 0, bw.pct(.5) > 0 && bw.pct(.99) <= 3*bw.pct(.5))})
	out = append(out, atLeastRatio("sidecar empty call ÷ bare grpc-go, 8 clients", emptySide8, bare8, 0.9, floorFig{}))
	scaled := r.scaled > 0 && len(r.loadRates) > 0
	out = append(out,
		target{what: "1,000,000 tokens: peak RSS while loading (MiB)", got: orDash(scaled, fmt.Sprintf("%.1f", float64(r.loadRSS)/(1<<20))), want: "< 256",
			met: verdict(scaled, scaled && r.loadRSS < 256<<20)},
		target{what: "1,000,000 tokens: allocated disk per token incl. audit log (bytes)", got: orDash(scaled, fmt.Sprintf("%.1f", perToken(r.diskAlloc, r.scaled))), want: "≤ 130",
			met: verdict(scaled, scaled && perToken(r.diskAlloc, r.scaled) <= 130)})
	if scaled {
		n := len(r.loadRates)
		out = append(out, atLeastRatio("1,000,000 tokens: load rate, last 100k ÷ first 100k", &stats{rates: r.loadRates[n-1:]}, &stats{rates: r.loadRates[:1]}, 0.85, floorFig{}))
	} else {
		out = append(out, target{what: "1,000,000 tokens: load rate, last 100k ÷ first 100k", got: "—", want: "≥ 0.85", met: "—"})
	}
	ff1 := r.ff1Ns > 0 && r.aesNs > 0
	out = append(out, target{what: "FF1 on 16 digits: AES-256 block times · allocations", got: orDash(ff1, fmt.Sprintf("%.2f · %d", r.ff1Ns/max(r.aesNs, 1e-9), r.ff1Allocs)), want: "≤ 15 · 1",
		met: verdict(ff1, ff1 && r.ff1Ns <= 15*r.aesNs && r.ff1Allocs <= 1)})
	if r.scaled != 1_000_000 && scaled {
		for i := len(out) - 4; i < len(out)-1; i++ {
			out[i].what += fmt.Sprintf(" (this run: %s tokens)", num(float64(r.scaled)))
		}
	}
	return out
}

// orDash is s, or "—" for a figure the run did not measure.
func orDash(measured bool, s string) string {
	if !measured {
		return "—"
	}
	return s
}

func pctRatio(s *stats) string {
	if s.pct(.5) == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", float64(s.pct(.99))/float64(s.pct(.5)))
}

func perToken(bytes int64, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(bytes) / float64(n)
}

// targetTable renders targets.
func (r *report) targetTable(w func(string, ...any)) {
	w("Issue 11 targets in this run (medians of this run). \"Floor\" is what the floors above reach on the same comparison, and whether the least of them (one file per group; Badger) meets the target itself: an unmet target whose floor misses it too is the machine's, one whose floor meets it is ours.")
	w("")
	w("| target | this run | wanted | met | floor in this run | floor meets it |")
	w("|---|---|---|---|---|---|")
	for _, t := range r.targets() {
		w("| %s | %s | %s | %s | %s | %s |", t.what, t.got, t.want, t.met, t.floor, t.floorMet)
	}
	w("")
}
