package badger

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// encodeV2 is the version 2 layout, as written before version 3, so the
// tests can check that stores written then still read.
func encodeV2(r store.Record, version byte) []byte {
	b := []byte{version}
	b = binary.BigEndian.AppendUint32(b, r.KeyVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(r.CreatedAt)))
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(r.ExpiresAt)))
	b = binary.AppendUvarint(b, uint64(len(r.Index)))
	b = append(b, r.Index...)
	if version >= codecV2 {
		b = binary.AppendUvarint(b, uint64(len(r.Subject)))
		b = append(b, r.Subject...)
	}
	return append(b, r.Ciphertext...)
}

var codecRecords = []struct {
	name string
	r    store.Record
}{
	{"random token", store.Record{KeyVersion: 1, CreatedAt: time.Unix(1700000000, 123).UTC(), Ciphertext: []byte("sealed value")}},
	{"every field", store.Record{
		KeyVersion: 1 << 31, CreatedAt: time.Unix(1700000000, 5).UTC(), ExpiresAt: time.Unix(1800000000, 7).UTC(),
		Index: []byte("hmac index"), Subject: []byte("subject fp"), Ciphertext: []byte("c"),
	}},
	{"zero times, no ciphertext", store.Record{KeyVersion: 0, Index: []byte{0}}},
	{"subject without index", store.Record{KeyVersion: 300, CreatedAt: time.Unix(1, 0).UTC(), Subject: make([]byte, 200), Ciphertext: make([]byte, 70000)}},
}

func TestCodecRoundTrip(t *testing.T) {
	for _, tt := range codecRecords {
		want := tt.r
		want.Class, want.ID = "email", []byte("id-1")
		got, err := decodeRecord("email", []byte("id-1"), encodeRecord(tt.r))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decodeRecord(encodeRecord(r)) = %+v, %v, want %+v", tt.name, got, err, want)
		}
	}
}

// Records written in layouts 1 and 2 still decode to what they held.
func TestCodecReadsOlderLayouts(t *testing.T) {
	for _, tt := range codecRecords {
		for _, version := range []byte{codecV1, codecV2} {
			want := tt.r
			want.Class, want.ID = "email", []byte("id-1")
			if version == codecV1 {
				want.Subject = nil
			}
			got, err := decodeRecord("email", []byte("id-1"), encodeV2(tt.r, version))
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s, version %d: decodeRecord = %+v, %v, want %+v", tt.name, version, got, err, want)
			}
		}
	}
}

// A random token's record (no expiry, index or subject, key version 1)
// is 12 bytes shorter than in version 2.
func TestCodecCompact(t *testing.T) {
	r := codecRecords[0].r
	if got, old := len(encodeRecord(r)), len(encodeV2(r, codecV2)); got != old-12 {
		t.Errorf("len(encodeRecord(random token)) = %d, want %d (version 2: %d)", got, old-12, old)
	}
}

func TestCodecCorrupt(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"unknown version", []byte{9, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"v3 without flags", []byte{codecVersion}},
		{"v3 unknown flag", append([]byte{codecVersion, 1 << 5, 1}, make([]byte, 8)...)},
		{"v3 short created", []byte{codecVersion, 0, 1, 0, 0}},
		{"v3 key version over 32 bits", append([]byte{codecVersion, 0, 0x80, 0x80, 0x80, 0x80, 0x10}, make([]byte, 8)...)},
		{"v3 short expiry", append([]byte{codecVersion, hasExpiry, 1}, make([]byte, 12)...)},
		{"v3 index longer than the record", append([]byte{codecVersion, hasIndex, 1}, append(make([]byte, 8), 5, 1)...)},
		{"v2 short header", []byte{codecV2, 0, 0, 0, 1}},
	}
	for _, tt := range tests {
		if _, err := decodeRecord("c", []byte("id"), tt.b); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: decodeRecord(%x) error = %v, want errCorrupt", tt.name, tt.b, err)
		}
	}
}
