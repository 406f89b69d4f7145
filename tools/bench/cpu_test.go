package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name string
		stat string
		want time.Duration
	}{
		{"plain", "4242 (privacyvault) S 1 4242 4242 0 -1 4194560 1234 0 0 0 150 37 0 0 20 0 12 0 100 2000000 3000 18446744073709551615", 187 * clockTick},
		{"command with spaces and parentheses", "7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 5 6 7 8", 7 * clockTick},
		{"no CPU yet", "1 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1 1", 0},
	}
	for _, tt := range tests {
		got, err := parseStatCPU([]byte(tt.stat))
		if err != nil || got != tt.want {
			t.Errorf("%s: parseStatCPU(%q) = %v, %v, want %v", tt.name, tt.stat, got, err, tt.want)
		}
	}
}

func TestParseStatCPURejectsMalformed(t *testing.T) {
	tests := []struct {
		name, stat, errPart string
	}{
		{"no command name", "4242 privacyvault S 1 2 3", "no command name"},
		{"truncated", "4242 (privacyvault) S 1 4242 4242 0 -1 4194560 1234 0 0 0 150", "fields after the command name"},
		{"not a number", "4242 (pv) S 1 4242 4242 0 -1 4194560 1234 0 0 0 x 37 0", "invalid syntax"},
	}
	for _, tt := range tests {
		got, err := parseStatCPU([]byte(tt.stat))
		if err == nil || !strings.Contains(err.Error(), tt.errPart) {
			t.Errorf("%s: parseStatCPU(%q) = %v, %v, want an error containing %q", tt.name, tt.stat, got, err, tt.errPart)
		}
	}
}

// procCPU of this very process agrees with getrusage to within the
// resolution of /proc (one clock tick per reading, and utime/stime are
// each rounded down).
func TestProcCPUOfSelfMatchesRusage(t *testing.T) {
	before := selfCPU()
	got, err := procCPU(os.Getpid())()
	after := selfCPU()
	if err != nil {
		t.Fatalf("procCPU(self) error = %v", err)
	}
	if got > after || got < before-3*clockTick {
		t.Errorf("procCPU(self) = %v, want between %v and %v (getrusage around it)", got, before-3*clockTick, after)
	}
}

func TestProcCPUOfMissingProcessFails(t *testing.T) {
	if got, err := procCPU(1 << 30)(); err == nil {
		t.Errorf("procCPU(no such pid) = %v, nil, want an error", got)
	}
}
