package main

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// envMemoryLimit is Go's own variable; when set it wins over the default.
const envMemoryLimit = "GOMEMLIMIT"

// defaultMemoryLimit is the Go heap's soft limit: the garbage collector
// works harder before the heap grows past it. Sized for a sidecar: while
// a million tokens load, the live heap stays near 50 MiB (Badger's
// memtables and pooled table-builder buffers, see store/badger); at this
// limit the collector took about 4% of the sidecar's CPU there (2% with
// 512 MiB) and peak RSS fell from about 255 MiB (512 MiB limit) to about
// 210 MiB. A workload whose live heap nears the limit (large values in
// large batches) makes the collector run continuously: raise it then.
const defaultMemoryLimit = "96MiB"

// envGCPercent is Go's own variable; when set it wins over the default.
const envGCPercent = "GOGC"

// defaultGCPercent replaces Go's 100 while the memory limit is on: a
// collection starts when the heap has grown by 4x the live heap, or
// earlier at the memory limit, which keeps bounding it. A sidecar's live
// heap is small (tens of MiB) and a batch of 1,000 allocates about half a
// MiB, so at 100 the collector ran every few dozen batches; at 400 it
// runs a quarter as often, cutting the sidecar's CPU per fpe batch by
// about 8% in the same run (BENCHMARKS.md, issue 11), while peak RSS
// loading a million tokens, where the limit is what binds, stays put.
const defaultGCPercent = 400

// memoryLimitFlag defines serve's --memory-limit flag (kept apart so the
// flag moves to any CLI framework as one piece).
func memoryLimitFlag(fs *pflag.FlagSet) *string {
	return fs.String("memory-limit", "", "soft limit of the Go heap, e.g. 384MiB or 1GiB; off disables (env "+envMemoryLimit+"; default "+defaultMemoryLimit+")")
}

// applyMemoryLimit sets the Go memory limit from the flag, else GOMEMLIMIT
// (which the runtime already applied), else the default; then, unless
// GOGC is set, defaultGCPercent when a limit is on.
func applyMemoryLimit(flagValue string) error {
	v := flagValue
	if v == "" && os.Getenv(envMemoryLimit) == "" {
		v = defaultMemoryLimit
	}
	if v != "" {
		n, err := parseBytes(v)
		if err != nil {
			return fmt.Errorf("--memory-limit: %w", err)
		}
		debug.SetMemoryLimit(n)
	}
	if os.Getenv(envGCPercent) == "" && debug.SetMemoryLimit(-1) != math.MaxInt64 {
		debug.SetGCPercent(defaultGCPercent)
	}
	return nil
}

// parseBytes parses "off", a byte count, or a count with a KiB, MiB or
// GiB suffix.
func parseBytes(s string) (int64, error) {
	if s == "off" {
		return math.MaxInt64, nil
	}
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = n, m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is not a size (e.g. 384MiB, 1GiB, off)", s)
	}
	return n * mult, nil
}
