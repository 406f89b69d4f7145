package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/privacyvault/privacyvault/internal/cputime"
)

// cpuSource reports the CPU time (user and system) a server has used so
// far; a point's server CPU per call is its difference around a round.
type cpuSource func() (time.Duration, error)

// procCPU reads the CPU time of process pid from /proc/<pid>/stat.
func procCPU(pid int) cpuSource {
	return func() (time.Duration, error) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, err
		}
		return parseStatCPU(b)
	}
}

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// 100 on every Linux the bench runs on.
const clockTick = 10 * time.Millisecond

// parseStatCPU returns utime+stime of a /proc/<pid>/stat line. The fields
// are counted after the command name, which is in parentheses and may
// itself hold spaces and parentheses: utime and stime are the 12th and
// 13th fields after its last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("/proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields after the command name, want at least 13", len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc stat: %w", err)
	}
	return time.Duration(ut+st) * clockTick, nil
}

// selfCPU is the bench process's own CPU time, to the microsecond.
func selfCPU() time.Duration { return cputime.Process() }

// idleTicks returns the machine's idle time so far (the fourth field of
// the cpu line of /proc/stat, all cores together), or 0 if unreadable.
func idleTicks() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0
	}
	v, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil {
		return 0
	}
	return time.Duration(v) * clockTick
}
