package identity

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// checkInterval is the least time between two looks at a watched file.
const checkInterval = time.Second

// unauthenticated returns an error wrapping ErrUnauthenticated with a fixed
// reason. Reasons never quote the credential.
func unauthenticated(reason string) error {
	return fmt.Errorf("%w: %s", ErrUnauthenticated, reason)
}

// watched holds a value loaded from files and reloads it when one of them
// changes. maybeReload looks at the files at most once per checkInterval
// (by stat: modification time, size and inode, so an atomic rename or a
// Kubernetes symlink swap counts as a change). A load that fails keeps the
// previous value; the failure is logged once per change of the files and
// returned by Reload.
type watched[T any] struct {
	paths []string
	load  func() (*T, error)
	log   *slog.Logger
	what  string // e.g. "JWKS", for log lines

	cur atomic.Pointer[T]

	mu        sync.Mutex    // serialises checks and loads
	lastCheck time.Time     // of clock(), under mu
	seen      []os.FileInfo // stat of paths at the last load attempt, under mu
	clock     func() time.Time
}

// newWatched loads the files once (failing if they do not load) and
// returns the watcher. clock paces maybeReload; nil means time.Now.
func newWatched[T any](what string, paths []string, log *slog.Logger, clock func() time.Time, load func() (*T, error)) (*watched[T], error) {
	if log == nil {
		log = slog.Default()
	}
	if clock == nil {
		clock = time.Now
	}
	w := &watched[T]{paths: paths, load: load, log: log, what: what, clock: clock}
	if err := w.Reload(); err != nil {
		return nil, err
	}
	return w, nil
}

// get returns the current value.
func (w *watched[T]) get() *T { return w.cur.Load() }

// Reload stats and loads the files now, whatever their stat says. On
// failure the previous value stays in use and the error is returned.
func (w *watched[T]) Reload() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reloadLocked(w.statAll())
}

// maybeReload reloads if at least checkInterval has passed since the last
// check and the files changed. A caller that finds another goroutine
// checking does not wait: it goes on with the current value.
func (w *watched[T]) maybeReload() {
	if !w.mu.TryLock() {
		return
	}
	defer w.mu.Unlock()
	now := w.clock()
	if now.Sub(w.lastCheck) < checkInterval {
		return
	}
	w.lastCheck = now
	st := w.statAll()
	if sameStats(st, w.seen) {
		return
	}
	if err := w.reloadLocked(st); err != nil {
		w.log.Error("identity: reload failed, keeping the previous "+w.what, "err", err)
		return
	}
	w.log.Info("identity: reloaded "+w.what, "files", w.paths)
}

// reloadLocked loads the files whose stat, taken before reading, is st.
// Stat-then-read means a change racing the read is seen at the next check.
func (w *watched[T]) reloadLocked(st []os.FileInfo) error {
	w.seen = st
	w.lastCheck = w.clock()
	v, err := w.load()
	if err != nil {
		return err
	}
	w.cur.Store(v)
	return nil
}

func (w *watched[T]) statAll() []os.FileInfo {
	st := make([]os.FileInfo, len(w.paths))
	for i, p := range w.paths {
		st[i], _ = os.Stat(p) // nil if missing: a later reappearance is a change
	}
	return st
}

func sameStats(a, b []os.FileInfo) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameStat(a[i], b[i]) {
			return false
		}
	}
	return true
}

func sameStat(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}
