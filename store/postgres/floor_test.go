package postgres_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/privacyvault/privacyvault/internal/pgtest"
)

// floorTables are tables for 1,000-row inserts, from the real pv_records
// schema down to a bare heap, to tell what PostgreSQL itself needs from
// what the schema adds.
var floorTables = []struct{ name, ddl string }{
	{"real", `CREATE TABLE t (class TEXT NOT NULL, id BYTEA NOT NULL, idx BYTEA, key_version BIGINT NOT NULL, ciphertext BYTEA NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, subject BYTEA, PRIMARY KEY (class, id));
CREATE UNIQUE INDEX t_idx ON t (class, idx) WHERE idx IS NOT NULL;
CREATE INDEX t_subject ON t (subject) WHERE subject IS NOT NULL;
CREATE INDEX t_expires ON t (class, expires_at) WHERE expires_at IS NOT NULL;`},
	{"pk-only", `CREATE TABLE t (class TEXT NOT NULL, id BYTEA NOT NULL, idx BYTEA, key_version BIGINT NOT NULL, ciphertext BYTEA NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, subject BYTEA, PRIMARY KEY (class, id));`},
	{"pk-collate-c", `CREATE TABLE t (class TEXT COLLATE "C" NOT NULL, id BYTEA NOT NULL, idx BYTEA, key_version BIGINT NOT NULL, ciphertext BYTEA NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, subject BYTEA, PRIMARY KEY (class, id));`},
	{"pk-id-only", `CREATE TABLE t (class TEXT NOT NULL, id BYTEA NOT NULL, idx BYTEA, key_version BIGINT NOT NULL, ciphertext BYTEA NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, subject BYTEA, PRIMARY KEY (id));`},
	{"minimal", `CREATE TABLE t (class TEXT NOT NULL, id BYTEA NOT NULL PRIMARY KEY, ciphertext BYTEA NOT NULL)`},
	{"heap", `CREATE TABLE t (class TEXT NOT NULL, id BYTEA NOT NULL, idx BYTEA, key_version BIGINT NOT NULL, ciphertext BYTEA NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, subject BYTEA)`},
}

type floorRows struct {
	classes     []string
	ids, cts    [][]byte
	vers, times []int64
	exp         []*int64
	subj        [][]byte
}

func newFloorRows(n, ctLen int) floorRows {
	r := floorRows{classes: make([]string, n), ids: make([][]byte, n), cts: make([][]byte, n), vers: make([]int64, n), times: make([]int64, n), exp: make([]*int64, n), subj: make([][]byte, n)}
	now := time.Now().UnixNano()
	for i := range n {
		r.classes[i], r.vers[i], r.times[i] = "customer_email", 1, now
		r.ids[i], r.cts[i] = make([]byte, 16), make([]byte, ctLen)
		rand.Read(r.ids[i])
		rand.Read(r.cts[i])
	}
	return r
}

// BenchmarkFloor measures what PostgreSQL itself needs for 1,000 random
// records: every (table, method) in turn, round after round, on one
// connection, so the shared machine's load hits all alike; it logs the
// minimum and median per batch of the statement and of the commit
// (synchronous_commit on). Run with -benchtime 1x -v; FLOOR_ROUNDS sets
// the rounds (default 15).
func BenchmarkFloor(b *testing.B) {
	dsn := pgtest.New(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	type variant struct {
		table, method string
		ddl           string
		stmt, commit  []time.Duration
	}
	var vs []*variant
	for i, tt := range floorTables {
		ddl := strings.ReplaceAll(tt.ddl, "t (", fmt.Sprintf("t%d (", i))
		ddl = strings.ReplaceAll(ddl, "TABLE t ", fmt.Sprintf("TABLE t%d ", i))
		ddl = strings.ReplaceAll(ddl, "INDEX t_", fmt.Sprintf("INDEX t%d_", i))
		if _, err := conn.Exec(ctx, ddl); err != nil {
			b.Fatal(err)
		}
		for _, m := range []string{"unnest-returning", "unnest-noreturn", "unnest-noconflict", "copy"} {
			vs = append(vs, &variant{table: tt.name, method: m, ddl: fmt.Sprintf("t%d", i)})
		}
	}
	rounds := 15
	if v, err := strconv.Atoi(os.Getenv("FLOOR_ROUNDS")); err == nil {
		rounds = v
	}
	for r := range rounds + 3 {
		for _, v := range vs {
			rows := newFloorRows(1000, 60)
			st, ct, err := floorInsert(ctx, conn, v.ddl, rows, v.method, v.table == "minimal")
			if err != nil {
				b.Fatal(err)
			}
			if r >= 3 { // the first rounds fill the tables
				v.stmt, v.commit = append(v.stmt, st), append(v.commit, ct)
			}
		}
	}
	b.Logf("%-14s %-18s %10s %10s %10s %10s", "table", "method", "stmt min", "stmt p50", "commit min", "commit p50")
	for _, v := range vs {
		slices.Sort(v.stmt)
		slices.Sort(v.commit)
		b.Logf("%-14s %-18s %10.2f %10.2f %10.2f %10.2f", v.table, v.method, ms(v.stmt[0]), ms(v.stmt[len(v.stmt)/2]), ms(v.commit[0]), ms(v.commit[len(v.commit)/2]))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func floorInsert(ctx context.Context, conn *pgx.Conn, table string, r floorRows, method string, minimal bool) (stmt, commit time.Duration, err error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	defer tx.Rollback(ctx)
	switch {
	case method == "copy" && minimal:
		_, err = tx.CopyFrom(ctx, pgx.Identifier{table}, []string{"class", "id", "ciphertext"}, pgx.CopyFromSlice(len(r.ids), func(i int) ([]any, error) {
			return []any{r.classes[i], r.ids[i], r.cts[i]}, nil
		}))
	case method == "copy":
		_, err = tx.CopyFrom(ctx, pgx.Identifier{table}, []string{"class", "id", "key_version", "ciphertext", "created_at", "expires_at", "subject"}, pgx.CopyFromSlice(len(r.ids), func(i int) ([]any, error) {
			return []any{r.classes[i], r.ids[i], r.vers[i], r.cts[i], r.times[i], r.exp[i], r.subj[i]}, nil
		}))
	default:
		var sql string
		var args []any
		if minimal {
			sql = `INSERT INTO ` + table + ` (class, id, ciphertext) SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[])`
			args = []any{r.classes, r.ids, r.cts}
		} else {
			sql = `INSERT INTO ` + table + ` (class, id, key_version, ciphertext, created_at, expires_at, subject) SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[], $4::bytea[], $5::bigint[], $6::bigint[], $7::bytea[])`
			args = []any{r.classes, r.ids, r.vers, r.cts, r.times, r.exp, r.subj}
		}
		switch method {
		case "unnest-returning":
			sql += ` ON CONFLICT DO NOTHING RETURNING class, id`
		case "unnest-noreturn":
			sql += ` ON CONFLICT DO NOTHING`
		}
		var rows pgx.Rows
		rows, err = tx.Query(ctx, sql, args...)
		if err == nil {
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			err = rows.Err()
			if err == nil && method == "unnest-returning" && n != len(r.ids) {
				err = fmt.Errorf("returned %d", n)
			}
		}
	}
	if err != nil {
		return 0, 0, err
	}
	mid := time.Now()
	err = tx.Commit(ctx)
	return mid.Sub(start), time.Since(mid), err
}
