package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"192MiB", 192 << 20},
		{"1GiB", 1 << 30},
		{"512KiB", 512 << 10},
		{"1000000", 1000000},
		{"off", math.MaxInt64},
	}
	for _, tt := range tests {
		if got, err := parseBytes(tt.in); err != nil || got != tt.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseBytesRejects(t *testing.T) {
	for _, in := range []string{"", "0", "-5MiB", "12MB", "lots", "99999999999GiB"} {
		if got, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) = %d, nil; want an error", in, got)
		}
	}
}

// applyMemoryLimit sets the limit from the flag or the default, and the
// collector's percentage to defaultGCPercent only while a limit is on and
// GOGC is not set. (The runtime applies GOMEMLIMIT and GOGC at start; the
// test stands in for that with the values set before each case.)
func TestApplyMemoryLimit(t *testing.T) {
	tests := []struct {
		name        string
		flag        string
		env         map[string]string
		startLimit  int64
		wantLimit   int64
		wantPercent int
	}{
		{"defaults", "", nil, math.MaxInt64, 96 << 20, defaultGCPercent},
		{"flag", "256MiB", nil, math.MaxInt64, 256 << 20, defaultGCPercent},
		{"limit off keeps Go's percentage", "off", nil, 96 << 20, math.MaxInt64, 100},
		{"GOGC wins", "", map[string]string{"GOGC": "150"}, math.MaxInt64, 96 << 20, 100},
		{"GOMEMLIMIT wins over the default", "", map[string]string{"GOMEMLIMIT": "200MiB"}, 200 << 20, 200 << 20, defaultGCPercent},
		{"GOMEMLIMIT off", "", map[string]string{"GOMEMLIMIT": "off"}, math.MaxInt64, math.MaxInt64, 100},
	}
	oldLimit, oldPercent := debug.SetMemoryLimit(-1), debug.SetGCPercent(100)
	t.Cleanup(func() {
		debug.SetMemoryLimit(oldLimit)
		debug.SetGCPercent(oldPercent)
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOGC", "")
			t.Setenv("GOMEMLIMIT", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			debug.SetMemoryLimit(tt.startLimit)
			debug.SetGCPercent(100)
			if err := applyMemoryLimit(tt.flag); err != nil {
				t.Fatalf("applyMemoryLimit(%q) = %v", tt.flag, err)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.wantLimit {
				t.Errorf("memory limit = %d, want %d", got, tt.wantLimit)
			}
			if got := debug.SetGCPercent(100); got != tt.wantPercent {
				t.Errorf("GC percent = %d, want %d", got, tt.wantPercent)
			}
		})
	}
}
