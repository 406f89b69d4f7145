package badger

import "github.com/privacyvault/privacyvault/store"

var _ store.DeletionStatement = (*Store)(nil)

// ErasureRemains is the erasure receipt's statement of what this store
// still holds after EraseSubject (docs/security.md, "Erasure removes the
// bytes").
const ErasureRemains = "Embedded Badger store: the subject's records, index entries, " +
	"subject keys and consents were deleted in one transaction, every older version of them " +
	"dropped, the tree compacted and the value log garbage-collected, so the data directory " +
	"holds no copy. Filesystem snapshots and backups taken before the erasure keep the " +
	"encrypted records and the wrapped subject key until they expire; the records are sealed " +
	"under the subject's own key, which opens only with the class key held in Vault."

// DeletionRemains implements store.DeletionStatement: Delete drops every
// version of the record and purges it from the data directory (purgeDisk).
func (s *Store) DeletionRemains(subject bool) string {
	if subject {
		return DeletionRemainsSubject
	}
	return DeletionRemains
}

// Statements of what this store still holds after Delete, for deletion
// receipts.
const (
	deletionResidue = "Embedded Badger store: the token's record and its index entries were " +
		"deleted, every older version dropped and the record purged from the tree and the value " +
		"log, so the data directory holds no copy. Filesystem snapshots and backups taken before " +
		"the deletion keep the encrypted record until they expire; "
	DeletionRemains        = deletionResidue + "its value is sealed under the class key held in Vault, which stays."
	DeletionRemainsSubject = deletionResidue + "its value is sealed under the data subject's own key, " +
		"which stays for the subject's other records and opens only with the class key held in Vault; " +
		"erasing the subject deletes the subject's key."
)
