package core

import (
	"sync"
	"testing"
)

// inParallel calls fn on chunks that cover [0, n) exactly once.
func TestInParallelCoversEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, minChunk, 2*minChunk - 1, 2 * minChunk, 1000, 1001, 10000} {
		seen := make([]int, n)
		var mu sync.Mutex
		inParallel(n, func(lo, hi int) {
			mu.Lock()
			defer mu.Unlock()
			if lo >= hi && n > 0 {
				t.Errorf("inParallel(%d) chunk [%d, %d) is empty", n, lo, hi)
			}
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("inParallel(%d) ran index %d %d times, want 1", n, i, c)
			}
		}
	}
}
