package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	bdb "github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"

	pvbadger "github.com/privacyvault/privacyvault/store/badger"
)

// Batch floors of the embedded store: Badger alone, in a process of its own, with
// the options store/badger opens it with, doing the least a batch of
// 1,000 needs — one write transaction of 1,000 random 16-byte keys with
// ~90-byte values made durable by one fdatasync of the memtable WAL (as
// the store does), and one read transaction getting 1,000 random keys of a
// preloaded set in key order, on every core or on one (readBatch). No
// tokenization, audit, gRPC or encoding.

const (
	floorKeyLen   = 16
	floorValueLen = 90
)

type badgerFloor struct {
	db   *bdb.DB
	dir  string
	wal  *os.File // newest memtable WAL (Badger names them %05d.mem)
	fid  int
	keys [][]byte // preloaded, read by the read floor
}

// openBadgerFloor opens a fresh Badger in dir and preloads n keys.
func openBadgerFloor(dir string, n int) (*badgerFloor, error) {
	opts, err := pvbadger.SidecarOptions(dir)
	if err != nil {
		return nil, err
	}
	db, err := bdb.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("badger floor: %w", err)
	}
	b := &badgerFloor{db: db, dir: dir}
	rng := rand.New(rand.NewPCG(5, 6))
	for len(b.keys) < n {
		keys, err := b.writeBatch(rng, min(batch, n-len(b.keys)))
		if err != nil {
			b.close()
			return nil, err
		}
		b.keys = append(b.keys, keys...)
	}
	return b, nil
}

func (b *badgerFloor) close() {
	if b.wal != nil {
		b.wal.Close()
	}
	b.db.Close()
}

// writeBatch commits n random records in one transaction and syncs them.
func (b *badgerFloor) writeBatch(rng *rand.Rand, n int) ([][]byte, error) {
	keys := make([][]byte, n)
	txn := b.db.NewTransaction(true)
	defer txn.Discard()
	for i := range keys {
		kv := make([]byte, floorKeyLen+floorValueLen)
		for j := 0; j < len(kv); j += 8 {
			v := rng.Uint64()
			for k := j; k < min(j+8, len(kv)); k++ {
				kv[k] = byte(v)
				v >>= 8
			}
		}
		keys[i] = kv[:floorKeyLen:floorKeyLen]
		if err := txn.Set(keys[i], kv[floorKeyLen:]); err != nil {
			return nil, fmt.Errorf("badger floor: %w", err)
		}
	}
	if err := txn.Commit(); err != nil {
		return nil, fmt.Errorf("badger floor: %w", err)
	}
	return keys, b.syncWAL()
}

// syncWAL fdatasyncs the newest memtable WAL, and once more a WAL that a
// newer one has replaced since the last sync (it may hold the commit).
func (b *badgerFloor) syncWAL() error {
	for {
		f, err := os.Open(filepath.Join(b.dir, fmt.Sprintf("%05d.mem", b.fid+1)))
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return err
		}
		if b.wal != nil {
			err = errors.Join(unix.Fdatasync(int(b.wal.Fd())), b.wal.Close())
		}
		b.wal, b.fid = f, b.fid+1
		if err != nil {
			return err
		}
	}
	if b.wal == nil {
		return errors.New("badger floor: no memtable WAL found")
	}
	return unix.Fdatasync(int(b.wal.Fd()))
}

// readBatch gets n random preloaded keys the fastest ways measured for
// Badger alone (BenchmarkReadMethods in store/badger, and variants of
// this floor): in key order, in one read transaction (one read
// timestamp), in contiguous parts over parts goroutines — GOMAXPROCS as
// the store's GetMany reads, or 1. Key order saved 4–8% of the CPU
// per key. The goroutines cost 4–12% more CPU per key (the level
// locks and table references they share); they take the wall time down
// when a core is free, and up when none is (the second part waits for
// one), so the bench measures both and the targets take the faster. An
// iterator Seek over the sorted keys cost 34–43% more per key: it seeks
// every level-0 table and memtable, where Get skips those whose Bloom
// filter rules the key out.
func (b *badgerFloor) readBatch(rng *rand.Rand, n, parts int) error {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = b.keys[rng.IntN(len(b.keys))]
	}
	slices.SortFunc(keys, bytes.Compare)
	return b.db.View(func(txn *bdb.Txn) error {
		w := max(1, min(parts, n/floorMinPart))
		size := (n + w - 1) / w
		errs := make([]error, w)
		var wg sync.WaitGroup
		for i := 1; i < w; i++ {
			wg.Go(func() { errs[i] = floorGets(txn, keys[min(i*size, n):min((i+1)*size, n)]) })
		}
		errs[0] = floorGets(txn, keys[:min(size, n)])
		wg.Wait()
		return errors.Join(errs...)
	})
}

// floorMinPart is the fewest keys readBatch gives a goroutine, as the
// store's lookups do.
const floorMinPart = 64

// floorGets gets keys in txn and checks each value's length.
func floorGets(txn *bdb.Txn, keys [][]byte) error {
	for _, k := range keys {
		item, err := txn.Get(k)
		if err != nil {
			return fmt.Errorf("badger floor: %w", err)
		}
		if err := item.Value(func(v []byte) error {
			if len(v) != floorValueLen {
				return fmt.Errorf("badger floor: value of %d bytes, want %d", len(v), floorValueLen)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// The Badger floor runs in a child process of its own (`bench
// badger-floor DIR N`), so that Badger's background work (memtable
// flushes, compactions of what the write floor wrote) is counted as that
// process's server CPU and never lands in the bench's own CPU of later
// points. It reads one command per line on stdin — "write" or "read" — and
// answers each with "ok" or "error: …" once the batch is done.

// serveBadgerFloor is the child: it preloads n keys into a fresh Badger in
// dir, prints "ready", then serves commands until stdin closes.
func serveBadgerFloor(dir string, n int, in io.Reader, out io.Writer) error {
	b, err := openBadgerFloor(dir, n)
	if err != nil {
		return err
	}
	defer b.close()
	rng := rand.New(rand.NewPCG(9, 10))
	if _, err := fmt.Fprintln(out, "ready"); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		switch sc.Text() {
		case "write":
			_, err = b.writeBatch(rng, batch)
		case "read":
			err = b.readBatch(rng, batch, runtime.GOMAXPROCS(0))
		case "read1":
			err = b.readBatch(rng, batch, 1)
		default:
			err = fmt.Errorf("unknown command %q", sc.Text())
		}
		answer := "ok"
		if err != nil {
			answer = "error: " + err.Error()
		}
		if _, err := fmt.Fprintln(out, answer); err != nil {
			return err
		}
	}
	return sc.Err()
}

// badgerFloorClient drives the child process.
type badgerFloorClient struct {
	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// do sends one command and waits for its answer.
func (c *badgerFloorClient) do(command string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.in, command+"\n"); err != nil {
		return fmt.Errorf("badger floor: %w", err)
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		return fmt.Errorf("badger floor: %w", err)
	}
	if line = strings.TrimSuffix(line, "\n"); line != "ok" {
		return fmt.Errorf("badger floor: %s", line)
	}
	return nil
}

func (c *badgerFloorClient) stop() {
	c.in.Close() // the child closes Badger and exits
	c.cmd.Wait()
}

// badgerFloorPoints starts the Badger floor process on dir with preload
// keys and returns its write and read points (one caller).
func badgerFloorPoints(dir string, preload int) ([]point, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	logFile, err := os.Create(filepath.Join(filepath.Dir(dir), "badger-floor.log"))
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(self, "badger-floor", dir, strconv.Itoa(preload))
	cmd.Stderr = logFile
	in, err1 := cmd.StdinPipe()
	out, err2 := cmd.StdoutPipe()
	if err := errors.Join(err1, err2); err != nil {
		logFile.Close()
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, nil, fmt.Errorf("badger floor: %w", err)
	}
	logFile.Close() // the child holds it
	c := &badgerFloorClient{cmd: cmd, in: in, out: bufio.NewReader(out)}
	if line, err := c.out.ReadString('\n'); err != nil || line != "ready\n" {
		c.stop()
		return nil, nil, fmt.Errorf("badger floor did not start (log %s): %q, %v", logFile.Name(), line, err)
	}
	server := procCPU(cmd.Process.Pid)
	return []point{
		{key: fmt.Sprintf("floor/badger/write/%d/1", batch), clients: 1, server: server, run: func(context.Context, int, *rand.Rand) (int, error) {
			return batch, c.do("write")
		}},
		{key: fmt.Sprintf("floor/badger/read/%d/1", batch), clients: 1, server: server, run: func(context.Context, int, *rand.Rand) (int, error) {
			return batch, c.do("read")
		}},
		{key: fmt.Sprintf("floor/badger/read1/%d/1", batch), clients: 1, server: server, run: func(context.Context, int, *rand.Rand) (int, error) {
			return batch, c.do("read1")
		}},
	}, c.stop, nil
}
