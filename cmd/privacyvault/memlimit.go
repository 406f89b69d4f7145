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

// memoryLimitFlag defines serve's --memory-limit flag (kept apart so the
// flag moves to any CLI framework as one piece).
func memoryLimitFlag(fs *pflag.FlagSet) *string {
	return fs.String("memory-limit", "", "soft limit of the Go heap, e.g. 384MiB or 1GiB; off disables (env "+envMemoryLimit+"; default "+defaultMemoryLimit+")")
}

// applyMemoryLimit sets the Go memory limit from the flag, else GOMEMLIMIT
// (which the runtime already applied), else the default.
func applyMemoryLimit(flagValue string) error {
	v := flagValue
	if v == "" {
		if os.Getenv(envMemoryLimit) != "" {
			return nil
		}
		v = defaultMemoryLimit
	}
	n, err := parseBytes(v)
	if err != nil {
		return fmt.Errorf("--memory-limit: %w", err)
	}
	debug.SetMemoryLimit(n)
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
