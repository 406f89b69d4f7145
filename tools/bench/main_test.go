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

// appendDigits spells fpe values as fmt's %016d does, after what b holds.
func TestAppendDigits(t *testing.T) {
	tests := []uint64{0, 7, 42, 1234567890123456, 1e16 - 1}
	for i := range uint64(1000) {
		tests = append(tests, i*9999999999991%1e16)
	}
	for _, n := range tests {
		got := appendDigits([]byte("x"), n)
		if want := fmt.Sprintf("x%016d", n); string(got) != want {
			t.Errorf("appendDigits(x, %d) = %q, want %q", n, got, want)
		}
	}
}
