package badger

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// TestSyncedWALHoldsLastInsert holds durability to its reading of Badger's
// files: after every insert commit, the WAL that syncWAL synced holds the
// records just inserted, also across memtable rotations (each inserts
// about 100 KiB; a memtable's WAL takes 4 MiB).
func TestSyncedWALHoldsLastInsert(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer s.Close()
	first := s.dur.wal.fid
	ctx := context.Background()
	for call := 0; s.dur.wal.fid < first+3; call++ {
		if call == 500 {
			t.Fatalf("no third memtable rotation after %d calls (WAL fid %d, first %d)", call, s.dur.wal.fid, first)
		}
		recs := make([]store.Record, 100)
		for i := range recs {
			recs[i] = store.Record{Class: "c", ID: randomID(t), Ciphertext: make([]byte, 1000), CreatedAt: time.Now()}
		}
		if _, err := s.Insert(ctx, recs); err != nil {
			t.Fatalf("Insert() error = %v", err)
		}
		wal, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%05d.mem", s.dur.wal.fid)))
		if err != nil {
			t.Fatalf("reading the synced WAL: %v", err)
		}
		if last := recs[len(recs)-1].ID; !bytes.Contains(wal, last) {
			t.Fatalf("call %d: synced WAL %05d.mem does not hold the last inserted id", call, s.dur.wal.fid)
		}
	}
}

// TestSyncedValueLogHoldsLargeValue: a value over Badger's threshold goes
// to the value log, and the value-log file synced after the commit holds
// it.
func TestSyncedValueLogHoldsLargeValue(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer s.Close()
	r := store.Record{Class: "c", ID: randomID(t), Ciphertext: make([]byte, s.opts.ValueThreshold), CreatedAt: time.Now()}
	if !s.mayUseValueLog(r) {
		t.Fatalf("mayUseValueLog(%d-byte value) = false, want true", len(r.Ciphertext))
	}
	if _, err := s.Insert(context.Background(), []store.Record{r}); err != nil {
		t.Fatalf("Insert() error = %v", err)
	}
	vlog, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%06d.vlog", s.dur.vlog.fid)))
	if err != nil {
		t.Fatalf("reading the synced value log: %v", err)
	}
	if !bytes.Contains(vlog, r.ID) {
		t.Fatalf("synced value log %06d.vlog does not hold the large record's id", s.dur.vlog.fid)
	}
}

// TestReadersWaitForSync: a read that ends while a write is not yet durable
// returns only once it is.
func TestReadersWaitForSync(t *testing.T) {
	d := &durability{wake: make(chan struct{})}
	n, err := d.begin()
	if err != nil {
		t.Fatalf("begin() error = %v", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- d.wait() }()
	select {
	case err := <-waited:
		t.Fatalf("wait() = %v before the write was durable", err)
	case <-time.After(50 * time.Millisecond):
	}
	d.done(n, nil)
	if err := <-waited; err != nil {
		t.Fatalf("wait() = %v, want nil", err)
	}
	n, _ = d.begin()
	waited = make(chan error, 1)
	go func() { waited <- d.wait() }()
	d.cancel(n) // that write wrote nothing: nothing to wait for
	if err := <-waited; err != nil {
		t.Fatalf("wait() after cancel = %v, want nil", err)
	}
	n, _ = d.begin()
	d.done(n, os.ErrInvalid)
	if err := d.wait(); err == nil {
		t.Fatal("wait() after a failed sync = nil, want an error")
	}
	if _, err := d.begin(); err == nil {
		t.Fatal("begin() after a failed sync = nil error, want one")
	}
}

// TestKickSyncsWithoutWaiter: in lazy mode a kick alone (the audit log
// about to sync) makes committed inserts durable and answers their
// waits, and a read after them returns.
func TestKickSyncsWithoutWaiter(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer s.Close()
	kick := s.SyncOnDemand()
	ctx := context.Background()
	r := store.Record{Class: "c", ID: randomID(t), Ciphertext: []byte("sealed"), CreatedAt: time.Now()}
	out, wait, err := s.InsertStaged(ctx, []store.Record{r})
	if err != nil {
		t.Fatalf("InsertStaged() error = %v", err)
	}
	if out[0].Status != store.Inserted {
		t.Fatalf("InsertStaged() status = %v, want Inserted", out[0].Status)
	}
	kick()
	committed := func() uint64 {
		s.dur.mu.Lock()
		defer s.dur.mu.Unlock()
		return s.dur.started
	}
	// Nothing else writes to this store: the first write begun is the
	// insert's commit.
	for i := 0; committed() == 0 || !s.dur.durableTo(committed()); i++ {
		if i == 3000 { // 30 s
			t.Fatal("insert not durable 30 s after a kick")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := wait(); err != nil {
		t.Fatalf("wait() error = %v", err)
	}
	got, err := s.Get(ctx, "c", r.ID)
	if err != nil || !bytes.Equal(got.Ciphertext, r.Ciphertext) {
		t.Fatalf("Get() = %q, %v, want %q", got.Ciphertext, err, r.Ciphertext)
	}
}

// TestKickCoversDecidedNotBegun: a kick that reaches the syncer while a
// committer holds the write lock with outcomes its callers have heard but
// a transaction not yet begun (commitGroup answers before it commits)
// still asks for that transaction. The syncer once judged a kick by what
// was begun when it took the kick, found nothing to sync, and dropped it:
// the insert then waited for a sync nobody else asked for.
func TestKickCoversDecidedNotBegun(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer s.Close()
	kick := s.SyncOnDemand()
	// The window: a committer counted, its transaction not begun.
	s.dur.committing.Add(1)
	kick()
	for i := 0; len(s.dur.kick) > 0; i++ { // the syncer took the kick
		if i == 3000 {
			t.Fatal("syncer did not take the kick in 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // and judged it
	ctx := context.Background()
	r := store.Record{Class: "c", ID: randomID(t), Ciphertext: []byte("sealed"), CreatedAt: time.Now()}
	if _, _, err := s.InsertStaged(ctx, []store.Record{r}); err != nil {
		t.Fatalf("InsertStaged() error = %v", err)
	}
	s.dur.committing.Add(-1)
	for i := 0; !s.dur.durableTo(1); i++ {
		if i == 1000 {
			t.Fatal("durableTo(1) = false 10 s after the kick, with no other demand; want true")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func randomID(t testing.TB) []byte {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		t.Fatal(err)
	}
	return id
}
