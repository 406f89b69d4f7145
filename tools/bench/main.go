// Command bench is `make bench`: it starts the real sidecar binary, HashiCorp
// Vault's Transit engine (bin/devvault) and a bare grpc-go health server,
// each in its own process on loopback, drives each through its official
// client from this process, and writes the results to BENCHMARKS.md.
//
//	bench [-short] [-out BENCHMARKS.md] [-cmd "make bench"]
//	bench bare DIR   (internal: the bare grpc-go server, durable floor files in DIR)
//	bench badger-floor DIR N   (internal: Badger alone, N keys preloaded; see badgerfloor.go)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/privacyvault/privacyvault/client"
)

type options struct {
	short     bool
	bin       string
	before    string
	devvault  string
	out       string
	cmd       string
	dur       time.Duration
	rounds    int
	pool      int
	scale     int
	scaleDur  time.Duration
	scaleOnly bool
	keep      bool
	only      *regexp.Regexp // measure only the main-phase points it matches
}

func main() {
	if handled, err := internalCommand(os.Args[1:]); handled {
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.BoolVar(&o.short, "short", false, "smoke run: tiny durations and a small scale phase; asserts nothing about speed")
	flag.StringVar(&o.bin, "bin", "bin/privacyvault", "sidecar binary")
	flag.StringVar(&o.before, "before", "", "an earlier sidecar binary measured in the same run on the main sidecar points (before/after table)")
	flag.StringVar(&o.devvault, "devvault", "bin/devvault", "devvault binary (Vault's Transit engine)")
	flag.StringVar(&o.out, "out", "BENCHMARKS.md", "file whose generated section is replaced; empty prints only")
	flag.StringVar(&o.cmd, "cmd", "go run ./tools/bench", "the command line to record in the report")
	dur := flag.Duration("dur", 0, "duration of one round of one point; 0 means 1.5s (100ms with -short)")
	rounds := flag.Int("rounds", 0, "rounds per point; 0 means 3 (1 with -short)")
	scaleOnly := flag.Bool("scale-only", false, "run only the scale phase (for tuning memory and load rate)")
	scale := flag.Int("scale", 0, "tokens loaded in the scale phase; 0 means 1,000,000 (20,000 with -short)")
	only := flag.String("only", "", "measure only the main-phase points whose key matches this regular expression (e.g. 'tok/rnd/1/|floor/sync'), and skip the scale phase: a quick probe, not a report")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (data of every sidecar) for inspection")
	flag.StringVar(&profileDir, "profile", "", "directory for sidecar CPU and heap profiles (serve --pprof) and CPU profiles of the bench itself (bench-cpu-*); empty takes none")
	flag.Parse()
	if profileDir != "" {
		if err := os.MkdirAll(profileDir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
	o.dur, o.rounds, o.pool, o.scale, o.scaleDur = 1500*time.Millisecond, 3, 5000, 1_000_000, 2*time.Second
	if o.short {
		o.dur, o.rounds, o.pool, o.scale, o.scaleDur = 100*time.Millisecond, 1, 200, 20_000, 100*time.Millisecond
	}
	if *scale > 0 {
		o.scale = *scale
	}
	o.scaleOnly = *scaleOnly
	if *dur > 0 {
		o.dur = *dur
	}
	if *rounds > 0 {
		o.rounds = *rounds
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -only:", err)
			os.Exit(2)
		}
		o.only = re
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// internalCommand runs the child processes the bench starts from its own
// executable: "bare DIR" and "badger-floor DIR N". It reports whether args
// named one.
func internalCommand(args []string) (bool, error) {
	switch {
	case len(args) == 2 && args[0] == "bare":
		return true, serveBare(args[1])
	case len(args) == 3 && args[0] == "badger-floor":
		n, err := strconv.Atoi(args[2])
		if err != nil {
			return true, err
		}
		return true, serveBadgerFloor(args[1], n, os.Stdin, os.Stdout)
	}
	return false, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run(o options) error {
	t0 := time.Now()
	work, err := os.MkdirTemp(".", ".bench-")
	if err != nil {
		return err
	}
	work, _ = filepath.Abs(work)
	if o.keep {
		logf("keeping %s", work)
	} else {
		defer os.RemoveAll(work)
	}
	r := &report{started: t0, opts: o, figures: map[string]*stats{}}
	if err := r.micro(); err != nil {
		return err
	}
	if !o.scaleOnly {
		if err := mainPhase(o, work, r); err != nil {
			return err
		}
	}
	if o.only == nil {
		if err := scalePhase(o, filepath.Join(work, "scale"), r); err != nil {
			return err
		}
	}
	r.took = time.Since(t0)
	text := r.markdown()
	fmt.Print(text)
	if o.out == "" {
		return nil
	}
	return writeSection(o.out, text)
}

// mainPhase measures every side in alternating rounds.
func mainPhase(o options, work string, r *report) error {
	const clients = 8
	bare, err := startBare(work)
	if err != nil {
		return err
	}
	defer bare.stop()
	dv, err := startDevvault(o.devvault, work)
	if err != nil {
		return err
	}
	defer dv.stop()
	side, _, err := startSidecar(o.bin, filepath.Join(work, "main"))
	if err != nil {
		return err
	}
	defer side.stop()

	bareConns, err := dialGRPC(bare.addr, clients)
	if err != nil {
		return err
	}
	sideConns, err := dialGRPC(side.addr, clients)
	if err != nil {
		return err
	}
	cls, err := dialSidecar(side.addr, clients)
	if err != nil {
		return err
	}
	vcs, err := dialVault(dv.addr, clients)
	if err != nil {
		return err
	}
	ctx := context.Background()
	pools := map[string][]string{}
	for _, class := range classes {
		if pools[class], err = tokenPool(ctx, cls[0], class, o.pool); err != nil {
			return fmt.Errorf("token pool %s: %w", class, err)
		}
	}
	cts, err := transitPool(vcs[0], o.pool)
	if err != nil {
		return fmt.Errorf("transit pool: %w", err)
	}
	fsync, closeProbe, err := fsyncOps(filepath.Join(work, "main"))
	if err != nil {
		return err
	}
	defer closeProbe()

	bf, stopBadgerFloor, err := badgerFloorPoints(filepath.Join(work, "floor-badger"), o.pool*20)
	if err != nil {
		return err
	}
	defer stopBadgerFloor()
	pf, stopPGFloor, err := pgFloorPoints(o.pool * 20)
	if err != nil {
		return err
	}
	defer stopPGFloor()

	bareCPU, sideCPU, dvCPU := bare.cpu(), side.cpu(), dv.cpu()
	points := []point{
		{key: "fsync/1", clients: 1, run: fsync},
	}
	for _, c := range []int{1, clients} {
		points = append(points,
			point{key: fmt.Sprintf("empty/bare/%d", c), clients: c, run: emptyOps(bareConns), server: bareCPU},
			point{key: fmt.Sprintf("empty/sidecar/%d", c), clients: c, run: emptyOps(sideConns), server: sideCPU},
			point{key: fmt.Sprintf("floor/sync1/%d", c), clients: c, run: floorOps(bareConns, floorOneFile), server: bareCPU},
			point{key: fmt.Sprintf("floor/sync2/%d", c), clients: c, run: floorOps(bareConns, floorTwoFiles), server: bareCPU})
	}
	for _, c := range []int{1, clients} {
		for _, class := range classes {
			points = append(points,
				point{key: fmt.Sprintf("tok/%s/1/%d", class, c), clients: c, run: tokenizeOps(cls, class, 1), server: sideCPU},
				point{key: fmt.Sprintf("detok/%s/1/%d", class, c), clients: c, run: detokenizeOps(cls, class, pools[class], 1), server: sideCPU})
		}
		points = append(points,
			point{key: fmt.Sprintf("enc/transit/1/%d", c), clients: c, run: transitEncryptOps(vcs, 1), server: dvCPU},
			point{key: fmt.Sprintf("dec/transit/1/%d", c), clients: c, run: transitDecryptOps(vcs, cts, 1), server: dvCPU})
	}
	for _, c := range []int{1, 2} {
		for _, class := range classes {
			points = append(points,
				point{key: fmt.Sprintf("tok/%s/%d/%d", class, batch, c), clients: c, run: tokenizeOps(cls, class, batch), server: sideCPU},
				point{key: fmt.Sprintf("detok/%s/%d/%d", class, batch, c), clients: c, run: detokenizeOps(cls, class, pools[class], batch), server: sideCPU})
		}
		points = append(points,
			point{key: fmt.Sprintf("enc/transit/%d/%d", batch, c), clients: c, run: transitEncryptOps(vcs, batch), server: dvCPU},
			point{key: fmt.Sprintf("dec/transit/%d/%d", batch, c), clients: c, run: transitDecryptOps(vcs, cts, batch), server: dvCPU})
	}
	points = append(points, bf...)
	points = append(points, pf...)
	pp, stopPG, err := pgPoints(o, work)
	if err != nil {
		return err
	}
	defer stopPG()
	// The PostgreSQL-store sidecars' points come from postgres.go; their
	// server CPU is that sidecar process's (PostgreSQL's own not counted).
	for i := range pp {
		dir := "pg"
		if strings.HasPrefix(pp[i].key, "before/") {
			dir = "pg-before"
		}
		if s := sidecarIn(filepath.Join(work, dir)); s != nil && pp[i].server == nil {
			pp[i].server = s.cpu()
		}
	}
	points = append(points, pp...)
	r.pgVersion = postgresVersion()
	if o.before != "" {
		// Every sidecar point, so that both sidecars do the same work and
		// hold the same amount of data.
		beforeKeys = beforeKeys[:0]
		for _, p := range points {
			if strings.HasPrefix(p.key, "tok/") || strings.HasPrefix(p.key, "detok/") || strings.HasPrefix(p.key, "empty/sidecar/") {
				beforeKeys = append(beforeKeys, p.key)
			}
		}
		bp, stop, err := beforePoints(o, work)
		if err != nil {
			return err
		}
		defer stop()
		points = append(points, bp...)
	}
	if o.only != nil {
		points = slices.DeleteFunc(points, func(p point) bool { return !o.only.MatchString(p.key) })
	}
	logf("main phase: %d points × %d rounds × %s", len(points), o.rounds, o.dur)
	if err := measureAll(points, o.rounds, o.dur, r.figures); err != nil {
		return err
	}
	rss, err := side.peakRSS()
	r.mainRSS = rss
	if err != nil || profileDir == "" {
		return err
	}
	if err := profileUnder(side, map[string]point{
		"tok-rnd-8":       {key: "profile/tok/rnd/8", clients: clients, run: tokenizeOps(cls, "rnd", 1)},
		"tok-rnd-1":       {key: "profile/tok/rnd/1", clients: 1, run: tokenizeOps(cls, "rnd", 1)},
		"detok-rnd-8":     {key: "profile/detok/rnd/8", clients: clients, run: detokenizeOps(cls, "rnd", pools["rnd"], 1)},
		"tok-fpe-batch":   {key: "profile/tok/fpe/1000", clients: 1, run: tokenizeOps(cls, "fpe", batch)},
		"tok-rnd-batch":   {key: "profile/tok/rnd/1000", clients: 1, run: tokenizeOps(cls, "rnd", batch)},
		"tok-det-batch":   {key: "profile/tok/det/1000", clients: 1, run: tokenizeOps(cls, "det", batch)},
		"detok-rnd-batch": {key: "profile/detok/rnd/1000", clients: 1, run: detokenizeOps(cls, "rnd", pools["rnd"], batch)},
		"empty-8":         {key: "profile/empty/8", clients: clients, run: emptyOps(sideConns)},
	}); err != nil {
		return err
	}
	if err := traceUnder(side, "tok-rnd-1", point{key: "profile/tok/rnd/1", clients: 1, run: tokenizeOps(cls, "rnd", 1)}); err != nil {
		return err
	}
	return profilePG()
}

// profileUnder takes a CPU profile of the sidecar while each point runs,
// and one of the bench itself (bench-cpu-<name>.pprof): the bench's
// client shares the cores with the sidecar.
func profileUnder(side *proc, points map[string]point) error {
	for name, p := range points {
		errc := make(chan error, 1)
		go func() { errc <- side.saveProfile("profile?seconds=4", "cpu-"+name+".pprof") }()
		stop, err := profileSelf("bench-cpu-" + name + ".pprof")
		if err != nil {
			return err
		}
		err = measure(p, 5*time.Second, &stats{})
		err = errors.Join(err, stop(), <-errc)
		if err != nil {
			return err
		}
	}
	return nil
}

// traceUnder takes a Go execution trace of the sidecar (trace-<name>.out,
// for go tool trace) while p runs: where a call's time goes between
// goroutines (hand-offs, scheduler latency, syscalls), which a CPU
// profile does not show.
func traceUnder(side *proc, name string, p point) error {
	errc := make(chan error, 1)
	go func() { errc <- side.saveProfile("trace?seconds=2", "trace-"+name+".out") }()
	err := measure(p, 3*time.Second, &stats{})
	return errors.Join(err, <-errc)
}

// profileSelf starts a CPU profile of the bench process into file under
// profileDir; stop ends it.
func profileSelf(file string) (stop func() error, err error) {
	f, err := os.Create(filepath.Join(profileDir, file))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

var classes = []string{"rnd", "det", "fpe"}

// beforeKeys are the sidecar points also measured on the -before binary.
var beforeKeys []string

// beforePoints starts the -before sidecar binary and returns its points,
// keyed "before/<key>", so that before and after share the run's noise.
func beforePoints(o options, work string) ([]point, func(), error) {
	side, _, err := startSidecar(o.before, filepath.Join(work, "before"))
	if err != nil {
		return nil, nil, fmt.Errorf("-before sidecar: %w", err)
	}
	conns, err := dialGRPC(side.addr, 8)
	if err != nil {
		side.stop()
		return nil, nil, err
	}
	cls, err := dialSidecar(side.addr, 8)
	if err != nil {
		side.stop()
		return nil, nil, err
	}
	pools := map[string][]string{}
	for _, class := range classes {
		if pools[class], err = tokenPool(context.Background(), cls[0], class, o.pool); err != nil {
			side.stop()
			return nil, nil, fmt.Errorf("-before token pool %s: %w", class, err)
		}
	}
	var out []point
	for _, k := range beforeKeys {
		var op, class string
		var n, c int
		if c, ok := strings.CutPrefix(k, "empty/sidecar/"); ok {
			n, _ := strconv.Atoi(c)
			out = append(out, point{key: "before/" + k, clients: n, run: emptyOps(conns), server: side.cpu()})
			continue
		}
		if _, err := fmt.Sscanf(strings.ReplaceAll(k, "/", " "), "%s %s %d %d", &op, &class, &n, &c); err != nil {
			side.stop()
			return nil, nil, fmt.Errorf("before key %s: %w", k, err)
		}
		run := tokenizeOps(cls, class, n)
		if op == "detok" {
			run = detokenizeOps(cls, class, pools[class], n)
		}
		out = append(out, point{key: "before/" + k, clients: c, run: run, server: side.cpu()})
	}
	return out, side.stop, nil
}

const batch = 1000

// scalePhase loads o.scale random tokens into a fresh sidecar, then
// restarts it and measures unary detokenize over what it stored.
func scalePhase(o options, dir string, r *report) error {
	side, _, err := startSidecar(o.bin, dir)
	if err != nil {
		return err
	}
	defer func() { side.stop() }()
	cls, err := dialSidecar(side.addr, 8)
	if err != nil {
		return err
	}
	step := o.scale / 10
	logf("scale phase: loading %d tokens", o.scale)
	var sample []string
	ctx := context.Background()
	loaded := 0
	cpu0, wr0, err := side.usage()
	if err != nil {
		return err
	}
	for loaded < o.scale {
		t := time.Now()
		toks, err := load(ctx, cls[:2], min(step, o.scale-loaded))
		if err != nil {
			return fmt.Errorf("scale load: %w", err)
		}
		rate := float64(len(toks)) / time.Since(t).Seconds()
		cpu, wr, err := side.usage()
		if err != nil {
			return err
		}
		r.loadRates = append(r.loadRates, rate)
		r.loadCPU = append(r.loadCPU, cpu-cpu0)
		r.loadWritten = append(r.loadWritten, wr-wr0)
		cpu0, wr0 = cpu, wr
		loaded += len(toks)
		for i := 0; i < len(toks); i += 97 {
			sample = append(sample, toks[i])
		}
		logf("loaded %8d  %8.0f tokens/s  sidecar CPU %5.2f s  written %6.1f MiB", loaded, rate, r.loadCPU[len(r.loadCPU)-1].Seconds(), float64(r.loadWritten[len(r.loadWritten)-1])/(1<<20))
	}
	if r.loadRSS, err = side.peakRSS(); err != nil {
		return err
	}
	if r.anonRSS, err = side.status("RssAnon"); err != nil {
		return err
	}
	if r.fileRSS, err = side.status("RssFile"); err != nil {
		return err
	}
	if err := side.saveProfile("heap", "heap-after-load.pprof"); err != nil {
		return err
	}
	side.stop()
	if r.diskAlloc, r.diskApparent, err = diskUsage(filepath.Join(dir, "data")); err != nil {
		return err
	}
	if r.diskStore, _, err = diskUsage(filepath.Join(dir, "data", "store")); err != nil {
		return err
	}
	if r.diskAudit, _, err = diskUsage(filepath.Join(dir, "data", "audit")); err != nil {
		return err
	}
	r.scaled = loaded
	side, r.restart, err = startSidecar(o.bin, dir)
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	cls, err = dialSidecar(side.addr, 8)
	if err != nil {
		return err
	}
	p := point{key: "detok/rnd/1/8/scaled", clients: 8, run: detokenizeOps(cls, "rnd", sample, 1), server: side.cpu()}
	if err := measureAll([]point{p}, 1, o.scaleDur, r.figures); err != nil {
		return err
	}
	r.serveRSS, err = side.peakRSS()
	return err
}

// load tokenizes n random values from len(cls) concurrent callers in
// batches of 1,000 and returns the tokens.
func load(ctx context.Context, cls []*client.Client, n int) ([]string, error) {
	type part struct {
		toks []string
		err  error
	}
	ch := make(chan part, len(cls))
	per := n / len(cls)
	for i, c := range cls {
		k := per
		if i == 0 {
			k += n % len(cls)
		}
		go func() {
			toks, err := tokenPool(ctx, c, "rnd", k)
			ch <- part{toks, err}
		}()
	}
	var all []string
	var errs []error
	for range cls {
		p := <-ch
		all = append(all, p.toks...)
		errs = append(errs, p.err)
	}
	return all, errors.Join(errs...)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return runtime.GOARCH
}
