package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"

	bdb "github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"

	pvbadger "github.com/privacyvault/privacyvault/store/badger"
)

// Batch floors of the embedded store: Badger alone, in this process, with
// the options store/badger opens it with, doing the least a batch of
// 1,000 needs — one write transaction of 1,000 random 16-byte keys with
// ~90-byte values made durable by one fdatasync of the memtable WAL (as
// the store does), and one read transaction getting 1,000 random keys of a
// preloaded set. No tokenization, audit, gRPC or encoding.

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

// readBatch gets n random preloaded keys in one read transaction.
func (b *badgerFloor) readBatch(rng *rand.Rand, n int) error {
	return b.db.View(func(txn *bdb.Txn) error {
		for range n {
			item, err := txn.Get(b.keys[rng.IntN(len(b.keys))])
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
	})
}

// badgerFloorPoints returns the write and read floors (one caller).
func badgerFloorPoints(dir string, preload int) ([]point, func(), error) {
	b, err := openBadgerFloor(dir, preload)
	if err != nil {
		return nil, nil, err
	}
	write := func(_ context.Context, _ int, rng *rand.Rand) (int, error) {
		_, err := b.writeBatch(rng, batch)
		return batch, err
	}
	read := func(_ context.Context, _ int, rng *rand.Rand) (int, error) {
		return batch, b.readBatch(rng, batch)
	}
	return []point{
		{key: fmt.Sprintf("floor/badger/write/%d/1", batch), clients: 1, run: write},
		{key: fmt.Sprintf("floor/badger/read/%d/1", batch), clients: 1, run: read},
	}, b.close, nil
}
