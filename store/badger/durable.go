package badger

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/privacyvault/privacyvault/store"
)

// Badger runs without SyncWrites and the store makes its writes durable
// itself. With SyncWrites Badger msyncs the value log after every write
// batch even when nothing went into it (values below ValueThreshold stay in
// the tree), and a sync of a clean file still costs a disk cache flush:
// measured on the bench machine, a clean msync of the value log took
// 0.25–0.41 ms and the memtable WAL's 0.54–0.65 ms, one after the other,
// in every group commit. Instead:
//
//   - after an insert group's commit, syncWAL fdatasyncs the memtable
//     write-ahead log Badger wrote it into (one sync, not two) — at once,
//     or in lazy mode (Store.SyncOnDemand) when a waiter, a reader or the
//     audit log demands it, one sync then covering every group committed
//     since the last;
//   - after any other write, and after a commit that may have put a large
//     value in the value log, syncBoth also fdatasyncs the value log being
//     written (two syncs, as Badger did);
//   - readers wait, after their read, until every write that had begun
//     before it ended is durable (begin, done, wait), so no caller reads a
//     record that a crash could still take back — as Badger's own read
//     timestamps guaranteed with SyncWrites.
//
// It relies on how Badger v4 names its files: memtable WALs are
// %05d.mem and value logs %06d.vlog, each series numbered one after the
// other, a new file only once the one before is written (a file that
// stops being the newest is synced once more, as it may hold the last
// write). TestSyncedWALHoldsLastInsert holds it to that across memtable
// rotations.
type durability struct {
	dir string

	syncMu    sync.Mutex // guards the series and closed
	wal, vlog series
	// closed: the store closed, the series' files with it; a sync then
	// fails rather than sync nothing (a PutTx wait may come after Close).
	closed bool

	// lazy: committed inserts are synced on demand (SyncOnDemand), not
	// as soon as they are committed; kick carries the demands.
	lazy atomic.Bool
	kick chan struct{} // buffered (1): a demand already pending is enough
	want atomic.Uint64 // readers demand the first want writes durable
	// queued counts insert transactions being filled by the committer,
	// committed, or waiting for the syncer — read without a lock by
	// Journal.Shares, which must not wait for the write lock.
	queued atomic.Int64
	// committing counts committers that hold, or have just released,
	// the write lock for a group (a committer never syncs while holding
	// it), so Journal.Put waits for the lock. It drops only after the
	// unlock: a put that finds the lock taken during the committer's
	// release still waits rather than going to the audit file.
	committing atomic.Int32
	walSyncs   atomic.Uint64 // store syncs done (either kind), for tests
	vlogSyncs  atomic.Uint64 // of them, syncs of the value log too, for tests
	// lastBig is the number of the last insert or staged transaction
	// that may have written the value log (set under the write lock): a
	// sync for a later write that marks it durable syncs both files.
	lastBig atomic.Uint64

	mu      sync.Mutex
	started uint64        // write commits begun
	synced  uint64        // the first synced of them are durable
	err     error         // a sync failed: nothing can be trusted until reopen
	wake    chan struct{} // closed when synced or err changes
}

// series follows Badger's newest file of one kind.
type series struct {
	format string // file name of a fid
	fid    int
	next   string   // path of file fid+1, which Badger writes next
	f      *os.File // nil if none was found
}

func (s *series) setFid(dir string, fid int) {
	s.fid, s.next = fid, filepath.Join(dir, fmt.Sprintf(s.format, fid+1))
}

// Badger's file name extensions.
const (
	memExt  = ".mem"
	vlogExt = ".vlog"
)

func newDurability(dir string) (*durability, error) {
	d := &durability{dir: dir, wake: make(chan struct{}), kick: make(chan struct{}, 1)}
	if err := d.syncAll(); err != nil {
		return nil, err
	}
	return d, nil
}

// begin is called under the write lock before a write commits; done(n,
// err) once that write and everything before it is durable (or not), or
// cancel(n), still under the lock, if it wrote nothing.
func (d *durability) begin() (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return 0, d.err
	}
	d.started++
	return d.started, nil
}

// done returns the store's error: err, or an earlier failure.
func (d *durability) done(n uint64, err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("store/badger: data unusable after a failed sync, reopen the store: %w", err)
	}
	if n > d.synced {
		d.synced = n
	}
	close(d.wake)
	d.wake = make(chan struct{})
	return d.err
}

// cancel takes back begin's n, which must be the last begun (the write
// lock is still held): that write wrote nothing.
func (d *durability) cancel(n uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n == d.started {
		d.started--
	}
	close(d.wake)
	d.wake = make(chan struct{})
}

// demand wakes the syncer to look at the demands marked before it: want
// and the insert requests' wanted (in lazy mode it otherwise syncs only
// when a batch is full). It never blocks.
func (d *durability) demand() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// demandDecided asks for every insert decided so far to become durable:
// the writes begun, and the transaction a committer holding the write
// lock is filling, whose outcomes its callers may already have heard
// (commitGroup answers before it commits). That transaction takes the
// next number: nothing else begins a write under the lock meanwhile.
// The demand is a number raised in want, fixed when asked, so a kick
// that reaches the syncer late asks for nothing committed after it.
func (d *durability) demandDecided() {
	filling := d.committing.Load() > 0
	d.mu.Lock()
	n := d.started
	d.mu.Unlock()
	if filling {
		n++
	}
	d.raiseWant(n)
	d.demand()
}

// raiseWant makes want at least n.
func (d *durability) raiseWant(n uint64) {
	for w := d.want.Load(); w < n && !d.want.CompareAndSwap(w, n); w = d.want.Load() {
	}
}

// durableTo reports whether the first n writes are durable.
func (d *durability) durableTo(n uint64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.synced >= n
}

// wait returns once every write begun so far is durable.
func (d *durability) wait() error {
	d.mu.Lock()
	n := d.started
	if d.synced < n && d.err == nil {
		d.mu.Unlock()
		d.raiseWant(n)
		d.demand()
		d.mu.Lock()
	}
	for d.synced < min(n, d.started) && d.err == nil {
		ch := d.wake
		d.mu.Unlock()
		<-ch
		d.mu.Lock()
	}
	err := d.err
	d.mu.Unlock()
	return err
}

// syncWAL makes the last commit durable when it wrote only the memtable
// WAL.
func (d *durability) syncWAL() error {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	if d.closed {
		return store.ErrClosed
	}
	d.walSyncs.Add(1)
	return d.wal.sync(d.dir)
}

// syncBoth makes the last write durable whatever it wrote.
func (d *durability) syncBoth() error {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	if d.closed {
		return store.ErrClosed
	}
	d.walSyncs.Add(1)
	d.vlogSyncs.Add(1)
	return errors.Join(d.wal.sync(d.dir), d.vlog.sync(d.dir))
}

// sync fdatasyncs the newest file of the series. A newer file than the
// one known means Badger moved on: the one before may still hold the last
// write, and is synced a last time first.
//
// The look for the next file runs on every sync, so it opens the path
// kept in next with unix.Open: one allocation, not os.OpenFile's five.
func (s *series) sync(dir string) error {
	for {
		fd, err := unix.Open(s.next, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == unix.ENOENT {
			break
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "open", Path: s.next, Err: err}
		}
		f := os.NewFile(uintptr(fd), s.next)
		if s.f != nil {
			err = errors.Join(unix.Fdatasync(int(s.f.Fd())), s.f.Close())
		}
		s.f = f
		s.setFid(dir, s.fid+1)
		if err != nil {
			return err
		}
	}
	if s.f == nil {
		return nil // Badger keeps no file of this kind (yet)
	}
	return unix.Fdatasync(int(s.f.Fd()))
}

// syncAll fdatasyncs every memtable WAL and value-log file and finds the
// newest of each again (at open and after a reopen).
func (d *durability) syncAll() error {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return err
	}
	newest := map[string]int{memExt: -1, vlogExt: -1}
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if ext != memExt && ext != vlogExt {
			continue
		}
		if err := fdatasyncFile(filepath.Join(d.dir, name)); err != nil {
			return err
		}
		if fid, err := strconv.Atoi(strings.TrimSuffix(name, ext)); err == nil && fid > newest[ext] {
			newest[ext] = fid
		}
	}
	d.closeFiles()
	d.wal = series{format: "%05d" + memExt, fid: newest[memExt]}
	d.vlog = series{format: "%06d" + vlogExt, fid: newest[vlogExt]}
	for _, s := range []*series{&d.wal, &d.vlog} {
		s.setFid(d.dir, max(s.fid, 0)) // Badger numbers both from 1
		if s.fid == 0 {
			continue
		}
		if s.f, err = os.OpenFile(filepath.Join(d.dir, fmt.Sprintf(s.format, s.fid)), os.O_RDONLY, 0); err != nil {
			return err
		}
	}
	return nil
}

func (d *durability) close() {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	d.closed = true
	d.closeFiles()
}

func (d *durability) closeFiles() {
	for _, s := range []*series{&d.wal, &d.vlog} {
		if s.f != nil {
			s.f.Close()
			s.f = nil
		}
	}
}

func fdatasyncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // flushed and removed since the listing: nothing to sync
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Fdatasync(int(f.Fd()))
}
