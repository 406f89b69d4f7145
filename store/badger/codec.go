package badger

import (
	"encoding/binary"
	"encoding/json"
	"errors"
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
	// Subject keys and the subject index start with the subject, so one
	// DropPrefix removes every version of them from disk on erasure.
	prefixSubjectKey   = 'k'
	prefixSubjectIndex = 'x'
)

// Record layouts: version 1 has no subject; version 2 adds it after the
// index. Both decode; new records are written as version 2.
const (
	codecV1      = 1
	codecVersion = 2
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
// key): version, key version, created, expires, index, ciphertext.
func encodeRecord(r store.Record) []byte {
	b := make([]byte, 0, 1+4+8+8+binary.MaxVarintLen64+len(r.Index)+len(r.Ciphertext))
	b = append(b, codecVersion)
	b = binary.BigEndian.AppendUint32(b, r.KeyVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(r.CreatedAt)))
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(r.ExpiresAt)))
	b = binary.AppendUvarint(b, uint64(len(r.Index)))
	b = append(b, r.Index...)
	b = binary.AppendUvarint(b, uint64(len(r.Subject)))
	b = append(b, r.Subject...)
	return append(b, r.Ciphertext...)
}

func decodeRecord(class string, id, b []byte) (store.Record, error) {
	if len(b) < 21 || (b[0] != codecVersion && b[0] != codecV1) {
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
	if version >= 2 {
		if r.Subject, b, err = lenPrefixed(b); err != nil {
			return store.Record{}, err
		}
	}
	r.Ciphertext = append([]byte(nil), b...)
	return r, nil
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
