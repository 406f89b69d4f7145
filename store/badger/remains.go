package badger

// ErasureRemains is the erasure receipt's statement of what this store
// still holds after EraseSubject (docs/security.md, "Erasure removes the
// bytes").
const ErasureRemains = "Embedded Badger store: the subject's records, index entries, " +
	"subject keys and consents were deleted in one transaction, every older version of them " +
	"dropped, the tree compacted and the value log garbage-collected, so the data directory " +
	"holds no copy. Filesystem snapshots and backups taken before the erasure keep the " +
	"encrypted records and the wrapped subject key until they expire; the records are sealed " +
	"under the subject's own key, which opens only with the class key held in Vault."
