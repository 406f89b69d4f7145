package main

import (
	"fmt"
	"os"
	"testing"
)

// TestMain lets the test binary be its own child processes (the bare
// server, the Badger floor), as the bench binary is, so the tests drive
// the real processes.
func TestMain(m *testing.M) {
	if handled, err := internalCommand(os.Args[1:]); handled {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
