package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/privacyvault/privacyvault/internal/pgtest"
	pvbadger "github.com/privacyvault/privacyvault/store/badger"
)

// The Badger write floor writes its batch (reopened, the database holds
// every key of it), and the read floor reads preloaded keys.
func TestBadgerFloorWritesAndReadsBatches(t *testing.T) {
	dir := t.TempDir()
	b, err := openBadgerFloor(dir, 1500)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.keys) != 1500 {
		t.Fatalf("preloaded %d keys, want 1500", len(b.keys))
	}
	rng := rand.New(rand.NewPCG(1, 1))
	written, err := b.writeBatch(rng, batch)
	if err != nil {
		t.Fatalf("writeBatch() = %v", err)
	}
	for _, parts := range []int{1, 2} {
		if err := b.readBatch(rng, batch, parts); err != nil {
			t.Fatalf("readBatch(%d parts) = %v", parts, err)
		}
	}
	b.close()

	opts, err := pvbadger.SidecarOptions(dir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := bdb.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(txn *bdb.Txn) error {
		for _, k := range written {
			if _, err := txn.Get(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("reading the written batch after reopening: %v, want every key", err)
	}
}

// The read floor reads on several goroutines; a key missing from any
// part fails the batch. Here the missing key sorts last and is a quarter
// of the picks, so only the goroutine reading the second half meets it.
func TestBadgerFloorReadFailsOnMissingKey(t *testing.T) {
	b, err := openBadgerFloor(t.TempDir(), 1500)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	missing := bytes.Repeat([]byte{0xff}, floorKeyLen)
	b.keys = append(b.keys[:3:3], missing)
	err = b.readBatch(rand.New(rand.NewPCG(1, 1)), batch, 2)
	if err == nil || !strings.Contains(err.Error(), "Key not found") {
		t.Errorf("readBatch(2 parts) with a missing key = %v, want Badger's key not found", err)
	}
}

// The PostgreSQL floors COPY a batch and select 1,000 preloaded keys on
// the server make test starts; the points carry the backend's CPU.
func TestPGFloorPoints(t *testing.T) {
	pgtest.AdminDSN(t) // fails, never skips, without a server
	points, stop, err := pgFloorPoints(1200)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if len(points) != 2 {
		t.Fatalf("pgFloorPoints returned %d points, want 2", len(points))
	}
	rng := rand.New(rand.NewPCG(2, 2))
	for _, p := range points {
		if p.server == nil {
			t.Errorf("%s: no server CPU source", p.key)
			continue
		}
		if _, err := p.server(); err != nil {
			t.Errorf("%s: server CPU: %v", p.key, err)
		}
		if n, err := p.run(context.Background(), 0, rng); err != nil || n != batch {
			t.Errorf("%s: run() = %d, %v, want %d, nil", p.key, n, err, batch)
		}
	}
}

func TestServeBadgerFloorAnswersEachCommand(t *testing.T) {
	var out strings.Builder
	in := strings.NewReader("write\nread\nread1\nbogus\n")
	if err := serveBadgerFloor(t.TempDir(), 1200, in, &out); err != nil {
		t.Fatalf("serveBadgerFloor() = %v", err)
	}
	want := "ready\nok\nok\nok\nerror: unknown command \"bogus\"\n"
	if out.String() != want {
		t.Errorf("serveBadgerFloor answered %q, want %q", out.String(), want)
	}
}

// The Badger floor points drive the child process (this test binary, see
// TestMain) and carry its CPU as the server's.
func TestBadgerFloorPointsRunInChildProcess(t *testing.T) {
	dir := t.TempDir()
	points, stop, err := badgerFloorPoints(filepath.Join(dir, "floor-badger"), 1500)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	rng := rand.New(rand.NewPCG(3, 3))
	for _, p := range points {
		if p.server == nil {
			t.Fatalf("%s: no server CPU source", p.key)
		}
		if _, err := p.server(); err != nil {
			t.Errorf("%s: server CPU: %v", p.key, err)
		}
		if n, err := p.run(context.Background(), 0, rng); err != nil || n != batch {
			t.Errorf("%s: run() = %d, %v, want %d, nil", p.key, n, err, batch)
		}
	}
}
