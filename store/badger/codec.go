package badger

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// Keys are prefix | class | 0x00 | id-or-index. Class names never contain
// 0x00 (the config restricts them), so the separator is unambiguous.
const (
	prefixRecord = 'r'
	prefixIndex  = 'i'
	prefixMeta   = 'm'
)

const codecVersion = 1

var errCorrupt = errors.New("store/badger: corrupt record")

func recordKey(class string, id []byte) []byte { return key(prefixRecord, class, id) }

func metaKey(name string) []byte { return append([]byte{prefixMeta}, name...) }

func indexKey(class string, index []byte) []byte { return key(prefixIndex, class, index) }

func key(prefix byte, class string, rest []byte) []byte {
	k := make([]byte, 0, 2+len(class)+len(rest))
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
	return append(b, r.Ciphertext...)
}

func decodeRecord(class string, id, b []byte) (store.Record, error) {
	if len(b) < 21 || b[0] != codecVersion {
		return store.Record{}, errCorrupt
	}
	r := store.Record{
		Class:      class,
		ID:         append([]byte(nil), id...),
		KeyVersion: binary.BigEndian.Uint32(b[1:5]),
		CreatedAt:  fromUnixNano(int64(binary.BigEndian.Uint64(b[5:13]))),
		ExpiresAt:  fromUnixNano(int64(binary.BigEndian.Uint64(b[13:21]))),
	}
	b = b[21:]
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return store.Record{}, errCorrupt
	}
	b = b[w:]
	if n > 0 {
		r.Index = append([]byte(nil), b[:n]...)
	}
	r.Ciphertext = append([]byte(nil), b[n:]...)
	return r, nil
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
