package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/store/postgres"
)

// envPostgres names the PostgreSQL server the postgres-store points use
// (`make bench` runs a throwaway cluster on loopback and sets it).
const envPostgres = "PRIVACYVAULT_TEST_POSTGRES_DSN"

// pgKeys are the sidecar points also measured with store.backend postgres.
var pgKeys = []string{
	"tok/rnd/1/1", "tok/det/1/1", "detok/rnd/1/1",
	"tok/rnd/1/8", "tok/det/1/8", "detok/rnd/1/8", "detok/det/1/8",
	"tok/rnd/1000/1", "tok/det/1000/1", "detok/rnd/1000/1", "detok/det/1000/1",
}

// pgAuditKeys are the points also measured on a sidecar with
// audit.sink postgres (records and events of a tokenize call in one
// transaction), beside the same points with the file sink.
var pgAuditKeys = []string{"tok/rnd/1/1", "tok/rnd/1/8", "tok/det/1/8"}

const pgAuditConfig = "audit:\n  sink: postgres\n  instance_id: bench\n"

// pgPoints starts a sidecar on a fresh database of the server $envPostgres
// names and returns its points, keyed "pg/<key>", measured in the same
// rounds as the Badger sidecar's. With -before, the earlier binary gets a
// database and sidecar of its own, keyed "before/pg/<key>".
func pgPoints(o options, work string) ([]point, func(), error) {
	out, stop, cls, pools, side, err := pgSidecar(o, o.bin, filepath.Join(work, "pg"), "pg/", pgKeys, "")
	if err != nil {
		return nil, nil, err
	}
	pgProfile = func() error {
		return profileUnder(side, map[string]point{
			"pg-tok-rnd-8":       {key: "profile/pg/tok/rnd/8", clients: 8, run: tokenizeOps(cls, "rnd", 1)},
			"pg-tok-rnd-batch":   {key: "profile/pg/tok/rnd/1000", clients: 1, run: tokenizeOps(cls, "rnd", 1000)},
			"pg-detok-rnd-batch": {key: "profile/pg/detok/rnd/1000", clients: 1, run: detokenizeOps(cls, "rnd", pools["rnd"], 1000)},
		})
	}
	aout, astop, _, _, _, err := pgSidecar(o, o.bin, filepath.Join(work, "pg-audit"), "pgaudit/", pgAuditKeys, pgAuditConfig)
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("audit sink postgres: %w", err)
	}
	mainStop := stop
	out, stop = append(out, aout...), func() { mainStop(); astop() }
	fout, err := pgSchemaPoints()
	if err != nil {
		stop()
		return nil, nil, err
	}
	out = append(out, fout...)
	if o.before == "" {
		return out, stop, nil
	}
	bout, bstop, _, _, _, err := pgSidecar(o, o.before, filepath.Join(work, "pg-before"), "before/pg/", pgKeys, "")
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("-before: %w", err)
	}
	baout, bastop, _, _, _, err := pgSidecar(o, o.before, filepath.Join(work, "pg-audit-before"), "before/pgaudit/", pgAuditKeys, pgAuditConfig)
	if err != nil {
		stop()
		bstop()
		return nil, nil, fmt.Errorf("-before, audit sink postgres: %w", err)
	}
	pgBefore = true
	return append(append(out, bout...), baout...), func() { stop(); bstop(); bastop() }, nil
}

// pgBefore: the -before binary was measured on PostgreSQL too.
var pgBefore bool

// pgSidecar starts bin on a fresh database and returns its points keyed
// prefix+key, with its clients and token pools.
func pgSidecar(o options, bin, dir, prefix string, keys []string, extra string) ([]point, func(), []*client.Client, map[string][]string, *proc, error) {
	fail := func(err error) ([]point, func(), []*client.Client, map[string][]string, *proc, error) {
		return nil, nil, nil, nil, nil, err
	}
	admin := os.Getenv(envPostgres)
	if admin == "" {
		return fail(fmt.Errorf("%s is not set: run the bench through scripts/with-postgres.sh (make bench does)", envPostgres))
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fail(fmt.Errorf("postgres: %w", err))
	}
	name := fmt.Sprintf("pvbench_%d", time.Now().UnixNano())
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	conn.Close(ctx)
	if err != nil {
		return fail(fmt.Errorf("postgres: create database: %w", err))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	dsnFile := filepath.Join(dir, "dsn")
	if err := os.WriteFile(dsnFile, []byte(admin+" dbname="+name), 0o600); err != nil {
		return fail(err)
	}
	side, _, err := startSidecarWith(bin, dir, fmt.Sprintf("store:\n  backend: postgres\n  postgres:\n    dsn_file: %s\n    max_conns: 16\n", dsnFile)+extra)
	if err != nil {
		return fail(fmt.Errorf("postgres sidecar: %w", err))
	}
	cls, err := dialSidecar(side.addr, 8)
	if err != nil {
		side.stop()
		return fail(err)
	}
	pools := map[string][]string{}
	needPools := slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, "detok/") })
	for _, class := range []string{"rnd", "det"} {
		if !needPools {
			break
		}
		if pools[class], err = tokenPool(ctx, cls[0], class, o.pool); err != nil {
			side.stop()
			return fail(fmt.Errorf("postgres token pool %s: %w", class, err))
		}
	}
	var out []point
	for _, k := range keys {
		var op, class string
		var n, c int
		if _, err := fmt.Sscanf(strings.ReplaceAll(k, "/", " "), "%s %s %d %d", &op, &class, &n, &c); err != nil {
			side.stop()
			return fail(fmt.Errorf("postgres key %s: %w", k, err))
		}
		run := tokenizeOps(cls, class, n)
		if op == "detok" {
			run = detokenizeOps(cls, class, pools[class], n)
		}
		out = append(out, point{key: prefix + k, clients: c, run: run})
	}
	return out, side.stop, cls, pools, side, nil
}

// pgProfile takes CPU profiles of the postgres sidecar (-profile); set by
// pgPoints, called after the main phase's rounds.
var pgProfile = func() error { return nil }

// profilePG profiles the postgres sidecar when -profile is set.
func profilePG() error {
	if profileDir == "" {
		return nil
	}
	return pgProfile()
}

// pgTable is the report's PostgreSQL section: each point beside the same
// point on the embedded Badger store, and batches beside Transit.
func (r *report) pgTable(w func(string, ...any)) {
	w("PostgreSQL store in this run (`store.backend: postgres`, PostgreSQL %s on loopback TCP, same rounds): the same points on a sidecar whose records are in PostgreSQL, beside the embedded Badger store.", r.pgVersion)
	w("")
	before := func(string) string { return "" }
	head, rule := "", ""
	if pgBefore {
		before = func(k string) string {
			p, b := r.get("pg/"+k), r.get("before/pg/"+k)
			return fmt.Sprintf(" %s | %s |", num(b.rate()), ratio(p.rate(), b.rate()))
		}
		head, rule = " PostgreSQL, -before binary | after ÷ before |", "---|---|"
	}
	w("| point (op/class/values per call/clients) | Badger values/s | p50 ms | PostgreSQL values/s | p50 ms | p99 ms | PostgreSQL ÷ Badger | PostgreSQL ÷ Transit |%s", head)
	w("|---|---|---|---|---|---|---|---|%s", rule)
	for _, k := range pgKeys {
		b, p := r.get(k), r.get("pg/"+k)
		vsTransit := ""
		if strings.HasSuffix(k, "/1000/1") {
			t := r.get("enc/transit/1000/1")
			if strings.HasPrefix(k, "detok") {
				t = r.get("dec/transit/1000/1")
			}
			vsTransit = ratio(p.rate(), t.rate())
		}
		w("| %s | %s | %s | %s | %s | %s | %s | %s |%s", k, num(b.rate()), ms(b.pct(.5)), num(p.rate()), ms(p.pct(.5)), ms(p.pct(.99)), ratio(p.rate(), b.rate()), vsTransit, before(k))
	}
	w("")
	t := func(k string) float64 { return r.get(k).rate() }
	w("Issue 12 targets in this run: batch random tokenize ÷ Transit `batch_input` encrypt %s (target ≥ 1); batch random detokenize ÷ Transit decrypt %s (target ≥ 2); unary 8-client random tokenize, PostgreSQL ÷ Badger %s (target ≥ 0.5).",
		ratio(t("pg/tok/rnd/1000/1"), t("enc/transit/1000/1")), ratio(t("pg/detok/rnd/1000/1"), t("dec/transit/1000/1")), ratio(t("pg/tok/rnd/1/8"), t("tok/rnd/1/8")))
	w("")
	r.pgAuditTable(w)
	r.pgSchemaTable(w)
}

// pgAuditTable compares the postgres audit sink with the file sink, both
// on the PostgreSQL store.
func (r *report) pgAuditTable(w func(string, ...any)) {
	if len(r.get("pgaudit/"+pgAuditKeys[0]).rates) == 0 {
		return
	}
	w("Audit sink postgres in this run (`audit.sink: postgres`: a tokenize call's records and events commit in one transaction), beside the PostgreSQL store with the file sink.")
	w("")
	head, rule := "", ""
	if pgBefore {
		head, rule = " postgres sink, -before binary | after ÷ before |", "---|---|"
	}
	w("| point (op/class/values per call/clients) | file sink values/s | p50 ms | postgres sink values/s | p50 ms | p99 ms | postgres sink ÷ file sink |%s", head)
	w("|---|---|---|---|---|---|---|%s", rule)
	for _, k := range pgAuditKeys {
		f, p := r.get("pg/"+k), r.get("pgaudit/"+k)
		before := ""
		if pgBefore {
			b := r.get("before/pgaudit/" + k)
			before = fmt.Sprintf(" %s | %s |", num(b.rate()), ratio(p.rate(), b.rate()))
		}
		w("| %s | %s | %s | %s | %s | %s | %s |%s", k, num(f.rate()), ms(f.pct(.5)), num(p.rate()), ms(p.pct(.5)), ms(p.pct(.99)), ratio(p.rate(), f.rate()), before)
	}
	w("")
}

// pgSchemaTable states what the database alone does with a batch of 1,000
// in the same rounds, against Transit: the ceiling of the batch targets.
func (r *report) pgSchemaTable(w func(string, ...any)) {
	if len(r.get(pgSchemaKeys[0]).rates) == 0 {
		return
	}
	w("The database alone in this run (no sidecar, no crypto: random 16-byte IDs and 60-byte values, a fresh database of the real schema holding 20,000+ records, one client): raw statements on one connection, and the `store/postgres` calls the sidecar makes.")
	w("")
	w("| figure (1,000 records per call) | values/s | p50 ms | ÷ Transit | ÷ the issue's target |")
	w("|---|---|---|---|---|")
	for _, f := range []struct {
		key, what, transit string
		target             float64
	}{
		{"pgfloor/copy/1000/1", "COPY + COMMIT (pgx, one connection)", "enc/transit/1000/1", 1},
		{"pgfloor/store-insert/1000/1", "`Store.Insert` (what a tokenize batch waits for)", "enc/transit/1000/1", 1},
		{"pgfloor/query/1000/1", "one `unnest … JOIN` query of 1,000 IDs", "dec/transit/1000/1", 2},
		{"pgfloor/store-getmany/1000/1", "`Store.GetMany` (what a detokenize batch waits for)", "dec/transit/1000/1", 2},
	} {
		p, tr := r.get(f.key), r.get(f.transit).rate()
		vs := p.rate() / tr
		w("| %s | %s | %s | %s | %s |", f.what, num(p.rate()), ms(p.pct(.5)), ratio(p.rate(), tr), fmt.Sprintf("%.2f", vs/f.target))
	}
	w("")
}

// postgresVersion returns the server's version string, for the report.
func postgresVersion() string {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Getenv(envPostgres))
	if err != nil {
		return "?"
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "?"
	}
	return v
}

// pgSchemaKeys are the database's own figures for a batch of 1,000, without
// a sidecar: raw statements on one connection (the floor PostgreSQL sets
// on this machine) and the store package's calls (store/postgres alone).
var pgSchemaKeys = []string{"pgfloor/copy/1000/1", "pgfloor/store-insert/1000/1", "pgfloor/query/1000/1", "pgfloor/store-getmany/1000/1"}

// pgSchemaPoints opens the store on a fresh database (the real schema),
// fills it with 20,000 random records and returns the floor points.
func pgSchemaPoints() ([]point, error) {
	ctx := context.Background()
	admin := os.Getenv(envPostgres)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return nil, fmt.Errorf("postgres floor: %w", err)
	}
	name := fmt.Sprintf("pvfloor_%d", time.Now().UnixNano())
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	conn.Close(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres floor: create database: %w", err)
	}
	dsn := admin + " dbname=" + name
	st, err := postgres.Open(ctx, postgres.Options{DSN: dsn, MaxConns: 8})
	if err != nil {
		return nil, fmt.Errorf("postgres floor: %w", err)
	}
	raw, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres floor: %w", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var stored []store.Ref
	for range 20 {
		recs := floorRecords(rng, 1000)
		if _, err := st.Insert(ctx, recs); err != nil {
			return nil, fmt.Errorf("postgres floor: fill: %w", err)
		}
		for _, r := range recs {
			stored = append(stored, store.Ref{Class: r.Class, ID: r.ID})
		}
	}
	pick := func(rng *rand.Rand) []store.Ref {
		refs := make([]store.Ref, 1000)
		for i := range refs {
			refs[i] = stored[rng.IntN(len(stored))]
		}
		return refs
	}
	return []point{
		{key: "pgfloor/copy/1000/1", clients: 1, run: func(ctx context.Context, _ int, rng *rand.Rand) (int, error) {
			recs := floorRecords(rng, 1000)
			tx, err := raw.Begin(ctx)
			if err != nil {
				return 0, err
			}
			defer tx.Rollback(ctx)
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"pv_records"}, []string{"class", "id", "key_version", "ciphertext", "created_at"},
				pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
					r := recs[i]
					return []any{r.Class, r.ID, int64(r.KeyVersion), r.Ciphertext, r.CreatedAt.UnixNano()}, nil
				})); err != nil {
				return 0, err
			}
			return len(recs), tx.Commit(ctx)
		}},
		{key: "pgfloor/store-insert/1000/1", clients: 1, run: func(ctx context.Context, _ int, rng *rand.Rand) (int, error) {
			recs := floorRecords(rng, 1000)
			_, err := st.Insert(ctx, recs)
			return len(recs), err
		}},
		{key: "pgfloor/query/1000/1", clients: 1, run: func(ctx context.Context, _ int, rng *rand.Rand) (int, error) {
			refs := pick(rng)
			classes, ids := make([]string, len(refs)), make([][]byte, len(refs))
			for i, r := range refs {
				classes[i], ids[i] = r.Class, r.ID
			}
			rows, err := raw.Query(ctx, `SELECT q.ord, r.idx, r.key_version, r.ciphertext, r.created_at, r.expires_at, r.subject
FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS q(class, id, ord)
JOIN pv_records r ON r.class = q.class AND r.id = q.id`, classes, ids)
			if err != nil {
				return 0, err
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil {
				return 0, err
			}
			if n != len(refs) {
				return 0, fmt.Errorf("postgres floor: query found %d of %d records", n, len(refs))
			}
			return n, nil
		}},
		{key: "pgfloor/store-getmany/1000/1", clients: 1, run: func(ctx context.Context, _ int, rng *rand.Rand) (int, error) {
			refs := pick(rng)
			_, err := st.GetMany(ctx, refs)
			return len(refs), err
		}},
	}, nil
}

// floorRecords returns n records shaped like a random token's: a 16-byte
// ID and 60 bytes of ciphertext.
func floorRecords(rng *rand.Rand, n int) []store.Record {
	recs := make([]store.Record, n)
	now := time.Now()
	for i := range recs {
		b := make([]byte, 76)
		for k := 0; k < len(b); k += 8 {
			v := rng.Uint64()
			for j := k; j < min(k+8, len(b)); j++ {
				b[j] = byte(v >> (8 * (j - k)))
			}
		}
		recs[i] = store.Record{Class: "rnd", ID: b[:16:16], KeyVersion: 1, Ciphertext: b[16:], CreatedAt: now}
	}
	return recs
}
