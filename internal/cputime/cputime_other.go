//go:build !unix

// Package cputime reads the CPU time this process has used, for
// benchmarks that report CPU per operation: on a shared machine it is
// steadier than wall time.
package cputime

import "time"

// Process is not measured on this system: it returns 0.
func Process() time.Duration { return 0 }
