package badger

import (
	"errors"
	"runtime"
	"sync"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/privacyvault/privacyvault/store"
)

// staged is a record made ready for the committer by its caller: its
// keys, its encoding and the keys' filter hashes, so the committer's
// serial work per record is the filter checks and the transaction's
// writes. Keys and values are cut from one buffer per chunk of records
// (capped, so none can grow into the next).
type staged struct {
	rk, val []byte // record key and encoded record
	ik      []byte // index key, nil for a random record
	sk      []byte // subject index key, nil without a subject
	id      []byte // the ID, inside rk (the outcome's and the index entry's value)
	rh, ih  uint64 // filter hashes of rk (recordFilterKey) and ik
	// A deterministic record without a subject: pk is the key prefix of
	// the record indexed by its ID that may hold its index (det.go), ph
	// its filter hash, index the index; one: the record is itself indexed
	// by its ID, so no index entry is written.
	pk, index []byte
	ph        uint64
	class     string
	one       bool
	size      int64 // estimate: bytes and entries it adds to a transaction
	entries   int
}

// prepareAll prepares recs, a large call's in contiguous chunks over
// GOMAXPROCS goroutines: the caller would otherwise wait idle while the
// committer did this work alone.
func (s *Store) prepareAll(recs []store.Record) []staged {
	out := make([]staged, len(recs))
	w := min(runtime.GOMAXPROCS(0), len(recs)/minChunk)
	if w <= 1 {
		s.prepareRange(recs, out)
		return out
	}
	size := (len(recs) + w - 1) / w
	var wg sync.WaitGroup
	for lo := size; lo < len(recs); lo += size {
		hi := min(lo+size, len(recs))
		wg.Go(func() { s.prepareRange(recs[lo:hi], out[lo:hi]) })
	}
	s.prepareRange(recs[:size], out[:size])
	wg.Wait()
	return out
}

// prepareRange prepares recs into out, cutting every key and value from
// one allocation.
func (s *Store) prepareRange(recs []store.Record, out []staged) {
	n := 0
	for _, r := range recs {
		k := 2 + len(r.Class)
		n += k + len(r.ID) + maxRecordLen(r)
		if r.Index != nil {
			n += k + len(r.Index)
		}
		if r.Subject != nil {
			n += len(subjectIndexKey(r.Subject, r.Class, r.ID))
		}
	}
	buf := make([]byte, 0, n)
	cut := func(start int) []byte { return buf[start:len(buf):len(buf)] }
	for i, r := range recs {
		p := &out[i]
		start := len(buf)
		buf = appendKey(buf, prefixRecord, r.Class, r.ID)
		p.rk = cut(start)
		p.id = p.rk[len(p.rk)-len(r.ID):]
		p.rh = s.filter.hash(recordFilterKey(p.rk))
		start = len(buf)
		buf = appendRecord(buf, r)
		p.val = cut(start)
		if r.Index != nil {
			start = len(buf)
			buf = appendKey(buf, prefixIndex, r.Class, r.Index)
			p.ik = cut(start)
			p.ih = s.filter.hash(p.ik)
		}
		if r.Subject != nil {
			start = len(buf)
			buf = append(buf, subjectIndexKey(r.Subject, r.Class, r.ID)...)
			p.sk = cut(start)
		}
		p.size, p.entries = estimate(r)
		prepareIndexed(s.filter, p, r)
	}
}

// insertOne adds p's record to txn unless its index or identifier is
// taken. It looks a key up only if the filter may hold it, and adds the
// keys it writes to the filter at once, so a later record of the same
// group that shares one is looked up (and found in txn, or for a record
// indexed by its ID in d, det.go). The outcome's ID is p's (not copied:
// p's buffer is the request's).
func insertOne(txn *bdb.Txn, f *keyFilter, d *detScope, p *staged) (store.Outcome, error) {
	if p.ik != nil && f.mayHoldHash(p.ih) {
		item, err := txn.Get(p.ik)
		switch {
		case err == nil:
			id, err := item.ValueCopy(nil)
			if err != nil {
				return store.Outcome{}, err
			}
			return store.Outcome{Status: store.Existing, ID: id}, nil
		case !errors.Is(err, bdb.ErrKeyNotFound):
			return store.Outcome{}, err
		}
	}
	if p.pk != nil && f.mayHoldHash(p.ph) {
		switch id, err := d.find(p); {
		case err != nil:
			return store.Outcome{}, err
		case id != nil:
			return store.Outcome{Status: store.Existing, ID: id}, nil
		}
	}
	if f.mayHoldHash(p.rh) {
		switch _, err := txn.Get(p.rk); {
		case err == nil:
			return store.Outcome{Status: store.Collision}, nil
		case !errors.Is(err, bdb.ErrKeyNotFound):
			return store.Outcome{}, err
		}
	}
	if err := txn.Set(p.rk, p.val); err != nil {
		return store.Outcome{}, err
	}
	f.addHash(p.rh)
	if p.one {
		d.note(p)
	} else if p.ik != nil {
		if err := txn.Set(p.ik, p.id); err != nil {
			return store.Outcome{}, err
		}
		f.addHash(p.ih)
	}
	if p.sk != nil {
		if err := txn.Set(p.sk, nil); err != nil {
			return store.Outcome{}, err
		}
	}
	return store.Outcome{Status: store.Inserted, ID: p.id}, nil
}
