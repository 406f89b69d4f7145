// Package store defines how privacyvault persists vaulted token records.
//
// A store only ever sees ciphertext, keyed HMAC indexes and random token
// identifiers: encryption happens before a record reaches it. Every
// implementation must pass the conformance suite in package storetest.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when no record matches.
var ErrNotFound = errors.New("store: record not found")

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("store: closed")

// ErrUnavailable is returned when a store on a database server cannot
// reach it. Nothing of the call may be acknowledged; the caller may retry.
var ErrUnavailable = errors.New("store: database unavailable")

// ErrChanged is returned by Replace when the stored record is no longer the
// one the caller read.
var ErrChanged = errors.New("store: record changed since it was read")

// Record is one vaulted value. Ciphertext is opaque to the store.
type Record struct {
	// Class is the data class name; records of different classes never meet.
	Class string
	// ID is the token identifier, unique within Class.
	ID []byte
	// Index is the deterministic lookup key (a keyed HMAC of the value), or
	// nil for random-mode records. At most one record per (Class, Index).
	Index []byte
	// KeyVersion names the data-key version that sealed Ciphertext.
	KeyVersion uint32
	// Ciphertext is the sealed value.
	Ciphertext []byte
	// CreatedAt is when the record was first written.
	CreatedAt time.Time
	// ExpiresAt is when the record stops resolving; zero means never.
	ExpiresAt time.Time
	// Subject is the keyed fingerprint of the data subject the value
	// belongs to, or nil.
	Subject []byte
}

// Ref names one record.
type Ref struct {
	Class string
	ID    []byte
}

// Consent is a data subject's consent to one purpose.
type Consent struct {
	// Subject is the keyed fingerprint of the subject.
	Subject     []byte
	Purpose     string
	LawfulBasis string
	GrantedAt   time.Time
	// ExpiresAt ends the consent; zero means it does not expire.
	ExpiresAt time.Time
	// RevokedAt is when the consent was revoked; zero means it was not.
	RevokedAt time.Time
}

// Live reports whether c allows use at now.
func (c Consent) Live(now time.Time) bool {
	return c.RevokedAt.IsZero() && (c.ExpiresAt.IsZero() || now.Before(c.ExpiresAt))
}

// Expired reports whether r is past its expiry at now.
func (r Record) Expired(now time.Time) bool {
	return !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt)
}

// Outcome says what Insert did with one record.
type Outcome struct {
	// Status is the result for the record at the same position.
	Status Status
	// ID is the token identifier now stored for the record: the record's own
	// ID when Inserted, the earlier record's ID when Existing, nil on Collision.
	ID []byte
}

// Status is the result of inserting one record.
type Status int

const (
	// Inserted means the record was written.
	Inserted Status = iota + 1
	// Existing means a record with the same (Class, Index) was already
	// stored; nothing was written and Outcome.ID is that record's ID.
	Existing
	// Collision means a record with the same (Class, ID) already exists;
	// nothing was written. The caller picks a new ID and tries again.
	Collision
)

// String returns the status name.
func (s Status) String() string {
	switch s {
	case Inserted:
		return "inserted"
	case Existing:
		return "existing"
	case Collision:
		return "collision"
	}
	return "unknown"
}

// Store persists token records.
//
// Insert is atomic and durable: when it returns nil, every Inserted record
// survives a crash of the process (kill -9). ID uniqueness and index
// uniqueness are checked inside the same write transaction, so concurrent
// inserts of one deterministic value agree on a single token.
type Store interface {
	// Insert writes recs and reports one Outcome per record, in order.
	// Records within one call are checked against each other too.
	Insert(ctx context.Context, recs []Record) ([]Outcome, error)
	// InsertStaged decides recs' outcomes exactly as Insert does and
	// returns them before they are durable, with wait, which returns nil
	// once they are (or the error that kept them from being, or ctx's).
	// Nothing learnt from the outcomes may be acknowledged to anyone
	// before wait returns nil; in the meantime the caller can make its own
	// record of the call (the audit event) durable, so the two syncs
	// overlap instead of following each other. Readers see the records
	// only once they are durable.
	InsertStaged(ctx context.Context, recs []Record) (out []Outcome, wait func() error, err error)
	// Get returns the record with the given class and ID, or ErrNotFound.
	Get(ctx context.Context, class string, id []byte) (Record, error)
	// GetMany returns the records refs name, in order, from one consistent
	// read; a record that does not exist comes back as the zero Record
	// (nil ID).
	GetMany(ctx context.Context, refs []Ref) ([]Record, error)
	// LookupIndex returns the record with the given class and index, or
	// ErrNotFound.
	LookupIndex(ctx context.Context, class string, index []byte) (Record, error)
	// Scan returns up to limit records of class with IDs after the given
	// one (nil starts at the beginning), in ID order. It is how background
	// jobs walk a class without holding a long transaction.
	Scan(ctx context.Context, class string, after []byte, limit int) ([]Record, error)
	// Replace swaps the stored record old for new (same Class and ID) if the
	// stored one still has old's KeyVersion and Ciphertext; otherwise it
	// returns ErrChanged (or ErrNotFound if it is gone) and writes nothing.
	Replace(ctx context.Context, old, new Record) error
	// GetMeta and PutMeta keep small named values for the sidecar's own
	// bookkeeping, such as the progress of a re-encryption job. GetMeta
	// returns ErrNotFound for a name never put.
	GetMeta(ctx context.Context, name string) ([]byte, error)
	PutMeta(ctx context.Context, name string, value []byte) error
	// PutConsent stores c, replacing the subject's consent for the same
	// purpose; the write is durable when it returns.
	PutConsent(ctx context.Context, c Consent) error
	// Consents returns every consent record of subject, live or not,
	// ordered by purpose.
	Consents(ctx context.Context, subject []byte) ([]Consent, error)
	// SubjectKey returns the wrapped key of subject in class, or
	// ErrNotFound.
	SubjectKey(ctx context.Context, subject []byte, class string) ([]byte, error)
	// PutSubjectKeyIfAbsent stores wrapped as subject's key in class unless
	// one exists, and returns the key now stored (so concurrent first uses
	// agree on one key).
	PutSubjectKeyIfAbsent(ctx context.Context, subject []byte, class string, wrapped []byte) ([]byte, error)
	// SubjectKeys returns up to limit stored subject keys after the cursor
	// (nil starts at the beginning), each with the cursor to continue from.
	// Key rotation walks them to re-wrap and count them.
	SubjectKeys(ctx context.Context, after []byte, limit int) ([]SubjectKeyEntry, error)
	// ReplaceSubjectKey swaps subject's wrapped key in class from old to
	// new if old is still stored: ErrChanged if another key is stored,
	// ErrNotFound if none is (the subject was erased meanwhile).
	ReplaceSubjectKey(ctx context.Context, subject []byte, class string, old, new []byte) error
	// SubjectRecords returns every record linked to subject, in all classes.
	SubjectRecords(ctx context.Context, subject []byte) ([]Record, error)
	// EraseSubject deletes subject's keys, records, their indexes and its
	// consents in one transaction, then purges old versions of them from
	// disk as far as the engine allows. It reports what it deleted.
	EraseSubject(ctx context.Context, subject []byte) (Erased, error)
	// Rectify replaces old (same Class and ID) by new, moving its
	// deterministic index: ErrChanged if the stored record is no longer
	// old, ErrIndexTaken if new's index belongs to another record.
	Rectify(ctx context.Context, old, new Record) error
	// Delete deletes record r (same Class and ID) with its indexes, then
	// purges old versions of it from disk as far as the engine allows:
	// ErrNotFound if it does not exist, ErrChanged if it is no longer r.
	Delete(ctx context.Context, r Record) error
	// DeleteExpired deletes up to limit records of class that expired at or
	// before now, with their indexes, and returns how many it deleted.
	DeleteExpired(ctx context.Context, class string, now time.Time, limit int) (int, error)
	// Close releases the store. Calls after Close return ErrClosed.
	Close() error
}

// SubjectKeyEntry is one stored subject key, as SubjectKeys returns it.
type SubjectKeyEntry struct {
	Subject []byte
	Class   string
	Wrapped []byte
	// Cursor continues a SubjectKeys walk after this entry.
	Cursor []byte
}

// Erased counts what EraseSubject deleted.
type Erased struct {
	Records  int
	Keys     int
	Consents int
	// Remains states, for the erasure receipt, what copies the store
	// still holds after the erasure and why they cannot be read.
	Remains string
}

// DeletionStatement is a store that states, for the receipt of a deleted
// token (DeleteToken), what copies of the deleted record it may still hold
// and why they cannot be read. Stores without it give receipts without
// the statement.
type DeletionStatement interface {
	// DeletionRemains is the statement for a record linked to a data
	// subject (subject) or not.
	DeletionRemains(subject bool) string
}

// Any reports whether anything was deleted.
func (e Erased) Any() bool { return e.Records+e.Keys+e.Consents > 0 }

// ErrIndexTaken is returned by Rectify when the new value already has a
// token in the class.
var ErrIndexTaken = errors.New("store: another record already holds this deterministic index")
