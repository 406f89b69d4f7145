package badger

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// Keys are prefix | class | 0x00 | id-or-index. Class names never contain
// 0x00 (the config restricts them), so the separator is unambiguous.
const (
	prefixRecord  = 'r'
	prefixIndex   = 'i'
	prefixMeta    = 'm'
	prefixConsent = 'c'
	prefixPurge   = 'p' // purgeKey (delete.go)
	// Subject keys and the subject index start with the subject, so one
	// DropPrefix removes every version of them from disk on erasure.
	prefixSubjectKey   = 'k'
	prefixSubjectIndex = 'x'
)

// Record layouts: version 1 has no subject; version 2 adds it after the
// index; version 3 (written now) drops what most records do not use: a
// flags byte says which of expiry, index and subject follow, and the key
// version is a uvarint: 11 bytes of header for a random token instead of
// 23, about a tenth of what such a token costs on disk. All three decode.
const (
	codecV1      = 1
	codecV2      = 2
	codecVersion = 3
)

// Flags of a version 3 record: which optional fields it holds.
const (
	hasExpiry  = 1 << 0
	hasIndex   = 1 << 1
	hasSubject = 1 << 2
	knownFlags = hasExpiry | hasIndex | hasSubject
)

var errCorrupt = errors.New("store/badger: corrupt record")

func recordKey(class string, id []byte) []byte { return key(prefixRecord, class, id) }

func metaKey(name string) []byte { return append([]byte{prefixMeta}, name...) }

// consentKey is prefix | len(subject) | subject | purpose: the length keeps
// one subject's prefix from matching another's.
func consentKey(subject []byte, purpose string) []byte {
	k := []byte{prefixConsent, byte(len(subject))}
	k = append(k, subject...)
	return append(k, purpose...)
}

// subjectPrefix is prefix | len(subject) | subject.
func subjectPrefix(prefix byte, subject []byte) []byte {
	k := []byte{prefix, byte(len(subject))}
	return append(k, subject...)
}

func subjectKeyKey(subject []byte, class string) []byte {
	return append(subjectPrefix(prefixSubjectKey, subject), class...)
}

// subjectIndexKey is prefix | len | subject | class | 0 | id.
func subjectIndexKey(subject []byte, class string, id []byte) []byte {
	k := append(subjectPrefix(prefixSubjectIndex, subject), class...)
	k = append(k, 0)
	return append(k, id...)
}

func encodeConsent(c store.Consent) ([]byte, error) { return json.Marshal(consentJSON(c)) }

func decodeConsent(b []byte) (store.Consent, error) {
	var j consentJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return store.Consent{}, errCorrupt
	}
	return store.Consent(j), nil
}

// consentJSON gives the stored consent stable field names.
type consentJSON struct {
	Subject     []byte    `json:"subject"`
	Purpose     string    `json:"purpose"`
	LawfulBasis string    `json:"lawful_basis"`
	GrantedAt   time.Time `json:"granted_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	RevokedAt   time.Time `json:"revoked_at"`
}

func indexKey(class string, index []byte) []byte { return key(prefixIndex, class, index) }

func key(prefix byte, class string, rest []byte) []byte {
	return appendKey(make([]byte, 0, 2+len(class)+len(rest)), prefix, class, rest)
}

// appendKey appends the key to k, so a loop can reuse one buffer.
func appendKey(k []byte, prefix byte, class string, rest []byte) []byte {
	k = append(k, prefix)
	k = append(k, class...)
	k = append(k, 0)
	return append(k, rest...)
}

// encodeRecord lays out the value part of a record (class and ID live in the
// key), version 3: version, flags, key version (uvarint), created (8 bytes,
// Unix nanoseconds), then expiry (8 bytes), index and subject (each a
// uvarint length and its bytes) where the flags say so, then the
// ciphertext.
func encodeRecord(r store.Record) []byte {
	return appendRecord(make([]byte, 0, maxRecordLen(r)), r)
}

// maxRecordLen bounds the length of r's encoding.
func maxRecordLen(r store.Record) int {
	return 2 + binary.MaxVarintLen32 + 16 + 2*binary.MaxVarintLen64 + len(r.Index) + len(r.Subject) + len(r.Ciphertext)
}

// appendRecord appends encodeRecord(r) to b.
func appendRecord(b []byte, r store.Record) []byte {
	var flags byte
	if !r.ExpiresAt.IsZero() {
		flags |= hasExpiry
	}
	if len(r.Index) > 0 {
		flags |= hasIndex
	}
	if len(r.Subject) > 0 {
		flags |= hasSubject
	}
	b = append(b, codecVersion, flags)
	b = binary.AppendUvarint(b, uint64(r.KeyVersion))
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(r.CreatedAt)))
	if flags&hasExpiry != 0 {
		b = binary.BigEndian.AppendUint64(b, uint64(unixNano(r.ExpiresAt)))
	}
	if flags&hasIndex != 0 {
		b = binary.AppendUvarint(b, uint64(len(r.Index)))
		b = append(b, r.Index...)
	}
	if flags&hasSubject != 0 {
		b = binary.AppendUvarint(b, uint64(len(r.Subject)))
		b = append(b, r.Subject...)
	}
	return append(b, r.Ciphertext...)
}

func decodeRecord(class string, id, b []byte) (store.Record, error) {
	if len(b) > 0 && b[0] == codecVersion {
		return decodeV3(class, id, b[1:])
	}
	if len(b) < 21 || (b[0] != codecV2 && b[0] != codecV1) {
		return store.Record{}, errCorrupt
	}
	version := b[0]
	r := store.Record{
		Class:      class,
		ID:         append([]byte(nil), id...),
		KeyVersion: binary.BigEndian.Uint32(b[1:5]),
		CreatedAt:  fromUnixNano(int64(binary.BigEndian.Uint64(b[5:13]))),
		ExpiresAt:  fromUnixNano(int64(binary.BigEndian.Uint64(b[13:21]))),
	}
	b = b[21:]
	var err error
	if r.Index, b, err = lenPrefixed(b); err != nil {
		return store.Record{}, err
	}
	if version >= codecV2 {
		if r.Subject, b, err = lenPrefixed(b); err != nil {
			return store.Record{}, err
		}
	}
	r.Ciphertext = append([]byte(nil), b...)
	return r, nil
}

// decodeV3 decodes a version 3 record after its version byte. The record's
// byte fields share one allocation (each capped, so appending to one never
// overwrites the next): a batch read decodes a thousand of them.
func decodeV3(class string, id, b []byte) (store.Record, error) {
	if len(b) < 1 || b[0]&^knownFlags != 0 {
		return store.Record{}, errCorrupt
	}
	flags := b[0]
	kv, w := binary.Uvarint(b[1:])
	if w <= 0 || kv > math.MaxUint32 || len(b) < 1+w+8 {
		return store.Record{}, errCorrupt
	}
	b = b[1+w:]
	r := store.Record{
		Class:      class,
		KeyVersion: uint32(kv),
		CreatedAt:  fromUnixNano(int64(binary.BigEndian.Uint64(b))),
	}
	b = b[8:]
	if flags&hasExpiry != 0 {
		if len(b) < 8 {
			return store.Record{}, errCorrupt
		}
		r.ExpiresAt = fromUnixNano(int64(binary.BigEndian.Uint64(b)))
		b = b[8:]
	}
	var index, subject []byte
	var err error
	if flags&hasIndex != 0 {
		if index, b, err = lenPrefixedView(b); err != nil {
			return store.Record{}, err
		}
	}
	if flags&hasSubject != 0 {
		if subject, b, err = lenPrefixedView(b); err != nil {
			return store.Record{}, err
		}
	}
	buf := make([]byte, 0, len(id)+len(index)+len(subject)+len(b))
	take := func(field []byte) []byte {
		if len(field) == 0 {
			return nil
		}
		start := len(buf)
		buf = append(buf, field...)
		return buf[start:len(buf):len(buf)]
	}
	r.ID, r.Index, r.Subject, r.Ciphertext = take(id), take(index), take(subject), take(b)
	return r, nil
}

// lenPrefixedView splits a uvarint-length-prefixed field off b without
// copying it.
func lenPrefixedView(b []byte) (field, rest []byte, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return nil, nil, errCorrupt
	}
	b = b[w:]
	return b[:n:n], b[n:], nil
}

// lenPrefixed splits a uvarint-length-prefixed field off b; an empty field
// is nil.
func lenPrefixed(b []byte) (field, rest []byte, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return nil, nil, errCorrupt
	}
	b = b[w:]
	if n > 0 {
		field = append([]byte(nil), b[:n]...)
	}
	return field, b[n:], nil
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
