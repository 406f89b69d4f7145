package badger

import (
	"bytes"
	"errors"
	"hash/maphash"
	"math/bits"
	"time"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/privacyvault/privacyvault/store"
)

// keyFilter is a Bloom filter of every record key and deterministic index
// key the store holds, so that the committer skips the Badger lookups of
// an insert that must miss: a new record's 128-bit identifier and a new
// value's index are almost never stored, and a Badger miss probes every
// memtable and the Bloom filters of every level — more of them as the
// store grows. "No" is exact: a key is added before the transaction
// writing it commits (and before a later record of the same group is
// checked), and the key-only scan at open (Store.fillFilter) adds what
// was stored before. A deleted key stays in the filter; its "maybe" costs
// a lookup, as every false positive does. A record key with a 16-byte ID
// is held without the ID's random half (recordFilterKey), which answers
// for the ID and for the prefix of a record indexed by its ID (det.go).
//
// The filter is split-block (each key sets 8 bits in one 32-byte block:
// one cache line per layer) and grows by layers: once a layer holds its
// capacity a new one four times larger is added, and a key may be in any.
// At 16 bits a key a full layer answers "maybe" for about 0.13% of absent
// keys (at 12 bits 0.55%: with the layers of 1,000,000 keys 1.1% in all,
// a dozen Badger misses on the committer's path per batch of 1,000, each
// a search of every level). It is guarded by Store.wmu, as every write
// is; its hashes are computed without it (hash).
type keyFilter struct {
	seed   maphash.Seed
	layers []filterLayer
	// ready: the scan at open has added every key stored before; until
	// then mayHold answers "maybe" for every key.
	ready bool
}

// filterLayer is one split-block Bloom filter.
type filterLayer struct {
	blocks   [][8]uint32
	n, limit int // keys added, keys it takes before the next layer
}

const (
	filterFirstKeys = 1 << 16 // the first layer's capacity
	filterGrowth    = 4
	filterBitsPer   = 16 // bits per key at capacity
)

// filterSalts spread a key's hash over the 8 words of its block (as in
// Parquet's split-block Bloom filter).
var filterSalts = [8]uint32{0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d, 0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31}

// newKeyFilter returns an empty filter whose first layer takes about
// keys keys (at least filterFirstKeys): sized at open for what the store
// holds, a restarted store's filter has one layer, so one cache line per
// check, until it outgrows it.
func newKeyFilter(keys int) *keyFilter {
	f := &keyFilter{seed: maphash.MakeSeed()}
	f.layers = []filterLayer{newFilterLayer(max(filterFirstKeys, keys))}
	return f
}

func newFilterLayer(limit int) filterLayer {
	return filterLayer{blocks: make([][8]uint32, (limit*filterBitsPer+255)/256), limit: limit}
}

// hash reads only the seed, set once: callers hash their keys without
// the write lock (Store.prepareAll).
func (f *keyFilter) hash(key []byte) uint64 { return maphash.Bytes(f.seed, key) }

// add records key as stored.
func (f *keyFilter) add(key []byte) { f.addHash(f.hash(key)) }

func (f *keyFilter) addHash(h uint64) {
	if last := f.layers[len(f.layers)-1]; last.n >= last.limit {
		f.layers = append(f.layers, newFilterLayer(last.limit*filterGrowth))
	}
	l := &f.layers[len(f.layers)-1]
	l.set(layerHash(h, len(f.layers)-1))
	l.n++
}

// mayHold reports whether key may be stored: false only if it is not.
func (f *keyFilter) mayHold(key []byte) bool {
	return f.mayHoldHash(f.hash(key))
}

// mayHoldHash is mayHold of the key whose hash is h.
func (f *keyFilter) mayHoldHash(h uint64) bool {
	if !f.ready {
		return true
	}
	for i := range f.layers {
		if f.layers[i].has(layerHash(h, i)) {
			return true
		}
	}
	return false
}

// layerHash derives layer i's hash from a key's, so that a key's blocks
// and bits in different layers are independent.
func layerHash(h uint64, i int) uint64 {
	h += uint64(i) * 0x9e3779b97f4a7c15
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

func (l *filterLayer) block(h uint64) *[8]uint32 {
	i, _ := bits.Mul64(h, uint64(len(l.blocks))) // the high half: h's share of the blocks
	return &l.blocks[i]
}

func (l *filterLayer) set(h uint64) {
	b := l.block(h)
	x := uint32(h)
	for i, salt := range filterSalts {
		b[i] |= 1 << ((x * salt) >> 27)
	}
}

func (l *filterLayer) has(h uint64) bool {
	b := l.block(h)
	x := uint32(h)
	for i, salt := range filterSalts {
		if b[i]&(1<<((x*salt)>>27)) == 0 {
			return false
		}
	}
	return true
}

// bytes is the filter's memory.
func (f *keyFilter) bytes() int {
	n := 0
	for _, l := range f.layers {
		n += len(l.blocks) * 32
	}
	return n
}

// fillChunk is how many keys the scan at open reads under one read lock
// and adds under one hold of the write lock.
const fillChunk = 8192

// fillFilter is the scan at open: it adds every record and index key
// stored to the filter, chunk by chunk, and then makes it answer. Writes
// meanwhile add their own keys (and their inserts look up as before), so
// nothing stored is missed: what was stored before the scan reached it is
// found by the scan, what is written after is added by the write. It
// stops early when the store closes; the filter then never answers.
func (s *Store) fillFilter() {
	defer close(s.fillDone)
	start, n := time.Now(), 0
	for _, prefix := range [][]byte{{prefixRecord}, {prefixIndex}} {
		from := prefix
		for from != nil {
			select {
			case <-s.stopFill:
				return
			default:
			}
			hashes, next, err := s.scanKeys(prefix, from)
			if err != nil {
				if s.log != nil && !errors.Is(err, store.ErrClosed) {
					s.log.Warn("store/badger: key filter scan failed; inserts look every key up", "err", err)
				}
				return
			}
			s.wmu.Lock()
			for _, h := range hashes {
				s.filter.addHash(h)
			}
			s.wmu.Unlock()
			n += len(hashes)
			from = next
		}
	}
	s.wmu.Lock()
	s.filter.ready = true
	size := s.filter.bytes()
	s.wmu.Unlock()
	if s.log != nil {
		s.log.Debug("store/badger: key filter ready", "keys_scanned", n, "bytes", size, "took", time.Since(start))
	}
}

// scanKeys hashes up to fillChunk keys under prefix from from on, and
// returns where the next chunk starts (nil after the last).
func (s *Store) scanKeys(prefix, from []byte) ([]uint64, []byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, nil, store.ErrClosed
	}
	hashes := make([]uint64, 0, fillChunk)
	var next []byte
	err := s.db.View(func(txn *bdb.Txn) error {
		it := txn.NewIterator(bdb.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Seek(from); it.ValidForPrefix(prefix); it.Next() {
			k := it.Item().Key()
			if len(hashes) == fillChunk {
				next = bytes.Clone(k)
				return nil
			}
			if prefix[0] == prefixRecord {
				k = recordFilterKey(k)
			}
			hashes = append(hashes, s.filter.hash(k))
		}
		return nil
	})
	return hashes, next, err
}
