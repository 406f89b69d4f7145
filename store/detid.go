package store

import "bytes"

// IndexedPrefix is how many leading bytes of a deterministic record's
// index its ID repeats when the record is "indexed by its ID": the first
// half of a 128-bit ID, the second half random.
//
// Such a record needs no separate index entry in a store that can find
// records by a prefix of their ID (store/badger writes one entry instead
// of two; stores with a unique index on (Class, Index), such as
// store/postgres, treat it as any record). Deleting it leaves nothing
// behind: the value's next record draws another random half, so a deleted
// token never comes back, and what stays in tokens issued before is a
// keyed hash of the value, not the value.
const IndexedPrefix = 8

// IndexID makes id (16 bytes, random) the ID of a record indexed by its
// ID: it copies the first IndexedPrefix bytes of index over id's first
// half. index must hold at least IndexedPrefix bytes.
func IndexID(id, index []byte) { copy(id[:IndexedPrefix], index[:IndexedPrefix]) }

// IndexedByID reports whether r is a record indexed by its ID (IndexID):
// deterministic, not linked to a data subject, with a 16-byte ID whose
// first half is its index's first IndexedPrefix bytes.
func IndexedByID(r Record) bool {
	return r.Subject == nil && len(r.ID) == 2*IndexedPrefix && len(r.Index) >= IndexedPrefix &&
		bytes.Equal(r.ID[:IndexedPrefix], r.Index[:IndexedPrefix])
}
