package badger

import (
	"errors"
	"runtime"
	"sync"
	"time"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/privacyvault/privacyvault/store"
)

// staged is a record made ready for the committer by its caller: its
// keys, its encoding and the keys' filter hashes, so the committer's
// serial work per record is the filter checks and the transaction's
// writes. Keys and values are cut from one buffer per chunk of records
// (capped, so none can grow into the next), and the Badger entries that
// carry them from one slice per chunk.
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
	// created: the record's creation time; a record holding its index
	// that expired by then is gone for it (replaceExpired).
	created time.Time
	size    int64 // estimate: bytes and entries it adds to a transaction
	entries int
	// ents: the transaction's entries for rk, ik and sk, in that order
	// (at most entries of them), set by insertOne: Badger keeps a
	// pointer to each.
	ents []bdb.Entry
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
	n, e := 0, 0
	for _, r := range recs {
		_, re := estimate(r)
		e += re
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
	ents := make([]bdb.Entry, e)
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
		p.ents, ents = ents[:p.entries:p.entries], ents[p.entries:]
		p.class, p.created = r.Class, r.CreatedAt
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
			old, err := get(txn, p.class, id)
			switch {
			case errors.Is(err, store.ErrNotFound):
				// An entry whose record is gone names no token: the
				// value gets a new one.
				if err := txn.Delete(p.ik); err != nil {
					return store.Outcome{}, err
				}
			case err != nil:
				return store.Outcome{}, err
			case !old.Expired(p.created):
				return store.Outcome{Status: store.Existing, ID: id}, nil
			default:
				// Expired: unreadable, and waiting only for the purge
				// (Store.DeleteExpired), which this stands in for.
				if err := deleteRecord(txn, old); err != nil {
					return store.Outcome{}, err
				}
			}
		case !errors.Is(err, bdb.ErrKeyNotFound):
			return store.Outcome{}, err
		}
	}
	if p.pk != nil && f.mayHoldHash(p.ph) {
		switch old, err := d.find(p); {
		case err != nil:
			return store.Outcome{}, err
		case old.ID != nil && !old.Expired(p.created):
			return store.Outcome{Status: store.Existing, ID: old.ID}, nil
		case old.ID != nil: // expired, as above
			if err := deleteRecord(txn, old); err != nil {
				return store.Outcome{}, err
			}
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
	// Each entry is set afresh: Badger rewrites a committed entry's
	// fields, and a record is tried again after a transaction that
	// took part of it was committed (commitGroup's flush).
	e := p.ents
	e[0] = bdb.Entry{Key: p.rk, Value: p.val}
	if err := txn.SetEntry(&e[0]); err != nil {
		return store.Outcome{}, err
	}
	f.addHash(p.rh)
	e = e[1:]
	if p.one {
		d.note(p)
	} else if p.ik != nil {
		e[0] = bdb.Entry{Key: p.ik, Value: p.id}
		if err := txn.SetEntry(&e[0]); err != nil {
			return store.Outcome{}, err
		}
		f.addHash(p.ih)
		e = e[1:]
	}
	if p.sk != nil {
		e[0] = bdb.Entry{Key: p.sk}
		if err := txn.SetEntry(&e[0]); err != nil {
			return store.Outcome{}, err
		}
	}
	return store.Outcome{Status: store.Inserted, ID: p.id}, nil
}

// deleteRecord deletes r's record and its index and subject keys in txn.
func deleteRecord(txn *bdb.Txn, r store.Record) error {
	if r.Index != nil {
		if err := deleteIndexEntry(txn, r.Class, r.Index); err != nil {
			return err
		}
	}
	if r.Subject != nil {
		if err := txn.Delete(subjectIndexKey(r.Subject, r.Class, r.ID)); err != nil {
			return err
		}
	}
	return txn.Delete(recordKey(r.Class, r.ID))
}
