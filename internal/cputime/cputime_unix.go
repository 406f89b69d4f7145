//go:build unix

// Package cputime reads the CPU time this process has used, for
// benchmarks that report CPU per operation: on a shared machine it is
// steadier than wall time.
package cputime

import (
	"syscall"
	"time"
)

// Process is the CPU time (user and system) this process has used so
// far, to the microsecond, or 0 if it cannot be read.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
