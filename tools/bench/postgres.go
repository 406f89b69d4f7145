package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/privacyvault/privacyvault/client"
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

// pgPoints starts a sidecar on a fresh database of the server $envPostgres
// names and returns its points, keyed "pg/<key>", measured in the same
// rounds as the Badger sidecar's. With -before, the earlier binary gets a
// database and sidecar of its own, keyed "before/pg/<key>".
func pgPoints(o options, work string) ([]point, func(), error) {
	out, stop, cls, pools, side, err := pgSidecar(o, o.bin, filepath.Join(work, "pg"), "pg/")
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
	if o.before == "" {
		return out, stop, nil
	}
	bout, bstop, _, _, _, err := pgSidecar(o, o.before, filepath.Join(work, "pg-before"), "before/pg/")
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("-before: %w", err)
	}
	pgBefore = true
	return append(out, bout...), func() { stop(); bstop() }, nil
}

// pgBefore: the -before binary was measured on PostgreSQL too.
var pgBefore bool

// pgSidecar starts bin on a fresh database and returns its points keyed
// prefix+key, with its clients and token pools.
func pgSidecar(o options, bin, dir, prefix string) ([]point, func(), []*client.Client, map[string][]string, *proc, error) {
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
	side, _, err := startSidecarWith(bin, dir, fmt.Sprintf("store:\n  backend: postgres\n  postgres:\n    dsn_file: %s\n    max_conns: 16\n", dsnFile))
	if err != nil {
		return fail(fmt.Errorf("postgres sidecar: %w", err))
	}
	cls, err := dialSidecar(side.addr, 8)
	if err != nil {
		side.stop()
		return fail(err)
	}
	pools := map[string][]string{}
	for _, class := range []string{"rnd", "det"} {
		if pools[class], err = tokenPool(ctx, cls[0], class, o.pool); err != nil {
			side.stop()
			return fail(fmt.Errorf("postgres token pool %s: %w", class, err))
		}
	}
	var out []point
	for _, k := range pgKeys {
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
