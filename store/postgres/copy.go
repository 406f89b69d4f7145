package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/privacyvault/privacyvault/store"
)

// copySQL starts a binary COPY of records without an index. Sent as one
// simple query after BEGIN when it opens the transaction, so a batch's
// BEGIN and COPY are one round trip: pgx's own CopyFrom would first
// prepare a SELECT to learn the column types (a round trip of its own)
// and need BEGIN sent before it.
const copySQL = `COPY pv_records (class, id, key_version, ciphertext, created_at, expires_at, subject) FROM STDIN (FORMAT binary)`

// copier copies rows in: data is the whole COPY stream in binary format.
type copier interface {
	copyIn(ctx context.Context, sql string, data []byte) (pgconn.CommandTag, error)
}

// copyMin is the smallest batch worth a COPY.
const copyMin = 64

// copyRecords writes recs, none of which has an index, with COPY: on
// PostgreSQL it stores the rows with multi-row inserts (one heap WAL record
// per page instead of per row), the cheapest way in. COPY has no ON
// CONFLICT: if a row's ID is taken, nothing is written, the transaction
// is aborted and copyRecords returns errIDTaken, for the caller to insert
// the batch the usual way. COPY ... FROM STDIN in binary is
// PostgreSQL's; Open turns it on only for PostgreSQL itself
// (docs/deployment.md).
func copyRecords(ctx context.Context, q copier, recs []store.Record, out []store.Outcome) error {
	tag, err := q.copyIn(ctx, copySQL, encodeCopy(recs))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return errIDTaken
	}
	if err != nil {
		return err
	}
	if tag.RowsAffected() != int64(len(recs)) {
		return errors.New("store/postgres: COPY wrote a different number of records than it was given")
	}
	for i, r := range recs {
		out[i] = store.Outcome{Status: store.Inserted, ID: r.ID}
	}
	return nil
}

// copyHeader opens a binary COPY stream: signature, flags, no extension.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// encodeCopy encodes recs in COPY's binary format for copySQL's columns:
// per row the field count, then each field's length (-1: NULL) and bytes
// (text and bytea as they are, bigint as 8 bytes big-endian).
func encodeCopy(recs []store.Record) []byte {
	n := len(copyHeader) + 2
	for _, r := range recs {
		n += 2 + 7*4 + len(r.Class) + len(r.ID) + 8 + len(r.Ciphertext) + 8 + 8 + len(r.Subject)
	}
	b := make([]byte, 0, n)
	b = append(b, copyHeader...)
	field := func(v []byte) {
		if v == nil {
			b = binary.BigEndian.AppendUint32(b, 0xffffffff)
			return
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	int8 := func(v int64) {
		b = binary.BigEndian.AppendUint32(b, 8)
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	for _, r := range recs {
		b = binary.BigEndian.AppendUint16(b, 7)
		b = binary.BigEndian.AppendUint32(b, uint32(len(r.Class)))
		b = append(b, r.Class...)
		field(r.ID)
		int8(int64(r.KeyVersion))
		field(r.Ciphertext)
		int8(r.CreatedAt.UnixNano())
		if r.ExpiresAt.IsZero() {
			field(nil)
		} else {
			int8(r.ExpiresAt.UnixNano())
		}
		field(r.Subject)
	}
	return binary.BigEndian.AppendUint16(b, 0xffff)
}

// copyIn implements copier: the COPY opens the transaction when nothing
// else has (BEGIN in the same simple query, one round trip).
func (t *pipeTx) copyIn(ctx context.Context, sql string, data []byte) (pgconn.CommandTag, error) {
	if !t.begun {
		t.begun = true
		sql = "BEGIN; " + sql
	}
	return t.conn.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(data), sql)
}
