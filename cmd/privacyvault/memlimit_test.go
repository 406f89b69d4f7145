package main

import (
	"math"
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
