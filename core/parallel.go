package core

import (
	"runtime"
	"sync"
)

// minChunk is the fewest items worth a goroutine: below it, starting one
// costs more than the items' crypto.
const minChunk = 64

// inParallel runs fn over [0, n) split into one contiguous chunk per
// available CPU (GOMAXPROCS) and returns when every chunk is done. A batch
// of 1,000 from one caller otherwise leaves all but one core idle while
// its items' crypto and audit fingerprints run one after another; small
// calls run on the caller's goroutine alone.
func inParallel(n int, fn func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), n/minChunk)
	if w <= 1 {
		fn(0, n)
		return
	}
	size := (n + w - 1) / w
	var wg sync.WaitGroup
	for lo := size; lo < n; lo += size {
		wg.Go(func() { fn(lo, min(lo+size, n)) })
	}
	fn(0, size)
	wg.Wait()
}

// firstError keeps the first error that workers report.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
