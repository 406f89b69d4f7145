package core

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// minChunk is the fewest items worth a goroutine: below it, starting one
// costs more than the items' crypto.
const minChunk = 64

// chunksPerWorker is how many chunks each worker takes on average: a
// worker whose core is busy with another process holds up only its
// current chunk, while the others take the rest.
const chunksPerWorker = 4

// inParallel runs fn over [0, n) split into contiguous chunks of at least
// minChunk items, taken in turn by one worker per available CPU
// (GOMAXPROCS), and returns when every chunk is done. A batch of 1,000
// from one caller otherwise leaves all but one core idle while its items'
// crypto and audit fingerprints run one after another; small calls run on
// the caller's goroutine alone.
func inParallel(n int, fn func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), n/minChunk)
	if w <= 1 {
		fn(0, n)
		return
	}
	size := (n + w*chunksPerWorker - 1) / (w * chunksPerWorker)
	size = max(size, minChunk)
	var next atomic.Int64
	work := func() {
		for {
			hi := int(next.Add(int64(size)))
			lo := hi - size
			if lo >= n {
				return
			}
			fn(lo, min(hi, n))
		}
	}
	var wg sync.WaitGroup
	for range w - 1 {
		wg.Go(work)
	}
	work()
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
