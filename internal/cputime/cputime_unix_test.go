//go:build unix

package cputime_test

import (
	"testing"

	"github.com/privacyvault/privacyvault/internal/cputime"
)

func TestProcessGrowsWithWork(t *testing.T) {
	before := cputime.Process()
	x := uint64(1)
	for i := range 50_000_000 {
		x = x*6364136223846793005 + uint64(i)
	}
	after := cputime.Process()
	if x == 0 || after <= before {
		t.Errorf("Process() after busy work = %v, want more than %v", after, before)
	}
}
