package core

import "github.com/privacyvault/privacyvault/store"

// detID makes the random ID of r, a new deterministic record, begin with
// its index (store.IndexID) unless r is linked to a data subject: such a
// record is one Badger entry instead of two (the record and its index
// entry), and deleting it leaves nothing — its value's next token draws
// another random half. A subject's records keep random IDs and their
// index entries: their index depends on the subject ID, not on its erased
// key, so after an erasure a prefix would still link the value's new
// token to the erased one. A record re-drawn after a collision
// (insertRecords) gets a random ID and an index entry as before.
func detID(r store.Record) {
	if r.Subject == nil {
		store.IndexID(r.ID, r.Index)
	}
}
