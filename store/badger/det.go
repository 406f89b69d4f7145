package badger

import (
	"bytes"
	"errors"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/privacyvault/privacyvault/store"
)

// Deterministic records indexed by their ID (store.IndexedByID) are one
// Badger entry, the record: its key r|class|0|id begins with the first
// bytes of the value's index, so the records that may hold an index are
// the few under that prefix (one, but for a 2^-64 chance), read with a
// prefix seek. Other deterministic records (written before, linked to a
// subject, or re-drawn after a collision) keep their index entry
// i|class|0|index. An insert checks both; the key filter holds, for a
// record key with a 16-byte ID, only its prefix (recordFilterKey), so one
// filter check tells whether a new record's ID or its value's prefix may
// be stored.

// recordFilterKey is the part of record key rk the key filter holds: the
// key without the ID's random half when the ID has 16 bytes (so the
// filter answers for the prefix of an indexed record), else rk.
func recordFilterKey(rk []byte) []byte {
	sep := bytes.IndexByte(rk[1:], 0)
	if sep >= 0 && len(rk)-(sep+2) == 2*store.IndexedPrefix {
		return rk[:len(rk)-store.IndexedPrefix]
	}
	return rk
}

// indexedPrefixKey appends to k the key prefix under which the record of
// class indexed by its ID with index would be stored.
func indexedPrefixKey(k []byte, class string, index []byte) []byte {
	return appendKey(k, prefixRecord, class, index[:store.IndexedPrefix])
}

// findIndexed returns the record under key prefix pk (indexedPrefixKey)
// whose index is index, or ErrNotFound. A record of another index under
// the prefix (a 64-bit hash collision, or a record rectified since it
// was issued) is skipped. In a write transaction the iterator also reads
// the transaction's pending writes, which Badger sorts for it: use a
// read transaction where a write transaction holds many.
func findIndexed(txn *bdb.Txn, pk []byte, class string, index []byte) (store.Record, error) {
	it := txn.NewIterator(bdb.IteratorOptions{Prefix: pk})
	defer it.Close()
	return seekIndexed(it, pk, class, index)
}

// seekIndexed is findIndexed with an iterator (whose options fetch no
// values ahead) that may be reused for the next seek.
func seekIndexed(it *bdb.Iterator, pk []byte, class string, index []byte) (store.Record, error) {
	for it.Seek(pk); it.ValidForPrefix(pk); it.Next() {
		item := it.Item()
		r, err := itemRecord(item, class, item.KeyCopy(nil)[len(class)+2:])
		if err != nil {
			return store.Record{}, err
		}
		if bytes.Equal(r.Index, index) {
			return r, nil
		}
	}
	return store.Record{}, store.ErrNotFound
}

// lookupIndex returns the record of class holding index: through its
// index entry, or the record indexed by its ID.
func lookupIndex(txn *bdb.Txn, class string, index []byte) (store.Record, error) {
	item, err := txn.Get(indexKey(class, index))
	switch {
	case err == nil:
		id, err := item.ValueCopy(nil)
		if err != nil {
			return store.Record{}, err
		}
		return get(txn, class, id)
	case !errors.Is(err, bdb.ErrKeyNotFound):
		return store.Record{}, err
	case len(index) < store.IndexedPrefix:
		return store.Record{}, store.ErrNotFound
	}
	return findIndexed(txn, indexedPrefixKey(nil, class, index), class, index)
}

// deleteIndexEntry deletes the index entry of index in class if there is
// one: a record indexed by its ID has none, and deleting a key that is
// not there would write a delete marker naming the value's index.
func deleteIndexEntry(txn *bdb.Txn, class string, index []byte) error {
	k := indexKey(class, index)
	switch _, err := txn.Get(k); {
	case errors.Is(err, bdb.ErrKeyNotFound):
		return nil
	case err != nil:
		return err
	}
	return txn.Delete(k)
}

// detScope is what an insert transaction needs to find the indexed
// records it may hold: those it wrote itself (noted here, since a seek in
// the write transaction would sort all its pending writes) and, through
// a read transaction opened at the first seek, those committed before;
// its one iterator serves every seek (building one costs more than a
// seek).
// The store's write lock is held throughout, so nothing else commits
// meanwhile. reset must follow every commit of the write transaction (its
// records are then read from a new read transaction), close the last.
type detScope struct {
	db      *bdb.DB
	read    *bdb.Txn
	it      *bdb.Iterator // on read, fetching no values ahead
	written []*staged     // indexed records written in the transaction
}

// find returns the record that holds p's index under p's prefix (of one
// written in the transaction, only its ID), or a record without an ID.
func (d *detScope) find(p *staged) (store.Record, error) {
	for _, w := range d.written {
		if w.ph == p.ph && bytes.Equal(w.pk, p.pk) && bytes.Equal(w.index, p.index) {
			return store.Record{ID: bytes.Clone(w.id)}, nil // w's buffer is another request's
		}
	}
	if d.read == nil {
		d.read = d.db.NewTransaction(false)
		d.it = d.read.NewIterator(bdb.IteratorOptions{})
	}
	r, err := seekIndexed(d.it, p.pk, p.class, p.index)
	if errors.Is(err, store.ErrNotFound) {
		return store.Record{}, nil
	}
	return r, err
}

// note records that p, an indexed record, was written in the transaction.
func (d *detScope) note(p *staged) { d.written = append(d.written, p) }

// reset follows a commit of the write transaction.
func (d *detScope) reset() {
	d.close()
	clear(d.written)
	d.written = d.written[:0]
}

// close ends the read transaction.
func (d *detScope) close() {
	if d.read != nil {
		d.it.Close()
		d.read.Discard()
		d.read, d.it = nil, nil
	}
}

// prepareIndexed sets p's fields for the records indexed by their ID
// that may hold r's index: the prefix of r's own key when r is one, else
// (a deterministic record without a subject) a key of its own.
func prepareIndexed(f *keyFilter, p *staged, r store.Record) {
	if r.Index == nil || r.Subject != nil || len(r.Index) < store.IndexedPrefix {
		return
	}
	p.index, p.class = r.Index, r.Class
	if p.one = store.IndexedByID(r); p.one {
		p.pk, p.ph = p.rk[:len(p.rk)-store.IndexedPrefix], p.rh
		return
	}
	p.pk = indexedPrefixKey(nil, r.Class, r.Index)
	p.ph = f.hash(p.pk)
}
