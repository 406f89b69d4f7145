package core

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/quota"
	"github.com/privacyvault/privacyvault/store"
)

// The service is three parts over one shared base, so each can be read on
// its own: DataPlane (tokenize, lookup, detokenize, retokenize), KeyAdmin
// (key status, rotation, retirement, rewrap, re-encryption jobs) and
// Subjects (consent, export, rectification, erasure, retention purge).
// Each part holds only the store methods it uses.

// base is what every part shares: the class registry and the audit
// trail.
type base struct {
	*registry
	*trail
}

// registry holds the classes and their keys: the primitives built from
// each class's keyring, their refresh and grace period, the policy, and
// the sealing of subject-bound records.
type registry struct {
	classes map[string]*slot
	keys    KeyProvider
	// subjectKeys holds the per-subject keys that seal subject-bound
	// records; every part opens or writes such records.
	subjectKeys SubjectKeyStore
	policy      atomic.Pointer[policy.Policy]
	maxValue    int
	grace       time.Duration
	log         *slog.Logger
	now         func() time.Time
	lastSync    atomic.Int64 // unix nanos of the last complete keyring refresh
	obs         Observer     // nil when nothing observes
}

// trail writes audit events (fail-closed), raises alerts and counts
// denials; it names classes and purposes only as the registry knows them.
type trail struct {
	reg     *registry
	audit   Auditor
	fp      Fingerprinter
	alerts  AlertSink
	denials denialCounter
}

// SubjectKeyStore is the part of store.Store that reads and creates the
// keys of data subjects.
type SubjectKeyStore interface {
	SubjectKey(ctx context.Context, subject []byte, class string) ([]byte, error)
	PutSubjectKeyIfAbsent(ctx context.Context, subject []byte, class string, wrapped []byte) ([]byte, error)
}

// DataStore is the part of store.Store the data plane uses.
type DataStore interface {
	SubjectKeyStore
	InsertStaged(ctx context.Context, recs []store.Record) ([]store.Outcome, func() error, error)
	GetMany(ctx context.Context, refs []store.Ref) ([]store.Record, error)
	LookupIndex(ctx context.Context, class string, index []byte) (store.Record, error)
	Consents(ctx context.Context, subject []byte) ([]store.Consent, error)
}

// KeyStore is the part of store.Store key administration uses: it walks
// records and subject keys to re-encrypt and rewrap them and keeps job
// progress in metadata.
type KeyStore interface {
	SubjectKeyStore
	Get(ctx context.Context, class string, id []byte) (store.Record, error)
	Scan(ctx context.Context, class string, after []byte, limit int) ([]store.Record, error)
	Replace(ctx context.Context, old, new store.Record) error
	GetMeta(ctx context.Context, name string) ([]byte, error)
	PutMeta(ctx context.Context, name string, value []byte) error
	SubjectKeys(ctx context.Context, after []byte, limit int) ([]store.SubjectKeyEntry, error)
	ReplaceSubjectKey(ctx context.Context, subject []byte, class string, old, new []byte) error
}

// SubjectStore is the part of store.Store the subject lifecycle uses.
type SubjectStore interface {
	SubjectKeyStore
	Get(ctx context.Context, class string, id []byte) (store.Record, error)
	GetMeta(ctx context.Context, name string) ([]byte, error)
	PutMeta(ctx context.Context, name string, value []byte) error
	PutConsent(ctx context.Context, c store.Consent) error
	Consents(ctx context.Context, subject []byte) ([]store.Consent, error)
	SubjectRecords(ctx context.Context, subject []byte) ([]store.Record, error)
	EraseSubject(ctx context.Context, subject []byte) (store.Erased, error)
	Rectify(ctx context.Context, old, new store.Record) error
	Delete(ctx context.Context, r store.Record) error
	DeleteExpired(ctx context.Context, class string, now time.Time, limit int) (int, error)
}

// Store is the part of store.Store the whole service uses.
type Store interface {
	DataStore
	KeyStore
	SubjectStore
}

// Every store.Store serves the whole service.
var _ Store = store.Store(nil)

// DataPlane tokenizes, looks up and detokenizes values.
type DataPlane struct {
	*base
	store DataStore
	quota *quota.Limiter
	honey honeytokens
	// joint: a tokenize call's records and events commit together
	// (Config.JointCommit).
	joint bool
}

// KeyAdmin reports on and changes class keys and runs the jobs that move
// records and subject keys onto new key versions.
type KeyAdmin struct {
	*base
	store KeyStore
	jobs  jobs
}

// Subjects records consent and answers data-subject requests: export,
// rectification and erasure; it also purges expired records.
type Subjects struct {
	*base
	store    SubjectStore
	receipts ReceiptSigner
}

// Service is the three parts together, as the server serves them. New
// code belongs on the part it concerns.
type Service struct {
	*base
	*DataPlane
	*KeyAdmin
	*Subjects
}
