package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// Batch floors of the PostgreSQL store: PostgreSQL alone, through pgx on
// the run's server, doing the least a batch of 1,000 needs — a binary COPY
// of 1,000 rows (16-byte key, ~90-byte value) into a table with only a
// primary key, committed on its own (synchronous_commit as the server
// has it), and one `= ANY($1)` select of 1,000 preloaded keys. The server
// CPU of these points is that of the connection's backend process.

const pgFloorTable = "floor"

type pgFloor struct {
	admin, name        string // the server and the floor's own database, dropped by close
	copyConn, readConn *pgx.Conn
	keys               [][]byte
}

// pgFloorPoints creates a fresh database on the server $envPostgres names,
// preloads n rows and returns the COPY and select floors (one caller).
func pgFloorPoints(n int) ([]point, func(), error) {
	admin := os.Getenv(envPostgres)
	if admin == "" {
		return nil, nil, fmt.Errorf("%s is not set: run the bench through scripts/with-postgres.sh (make bench does)", envPostgres)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres floor: %w", err)
	}
	name := fmt.Sprintf("pvfloor_%d", time.Now().UnixNano())
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	conn.Close(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres floor: create database: %w", err)
	}
	f := &pgFloor{admin: admin, name: name}
	if f.copyConn, err = pgx.Connect(ctx, admin+" dbname="+name); err != nil {
		f.close()
		return nil, nil, fmt.Errorf("postgres floor: %w", err)
	}
	if f.readConn, err = pgx.Connect(ctx, admin+" dbname="+name); err != nil {
		f.close()
		return nil, nil, fmt.Errorf("postgres floor: %w", err)
	}
	if _, err := f.copyConn.Exec(ctx, "CREATE TABLE "+pgFloorTable+" (id bytea PRIMARY KEY, v bytea NOT NULL)"); err != nil {
		f.close()
		return nil, nil, fmt.Errorf("postgres floor: %w", err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for len(f.keys) < n {
		keys, err := f.copyBatch(ctx, rng, min(batch, n-len(f.keys)))
		if err != nil {
			f.close()
			return nil, nil, err
		}
		f.keys = append(f.keys, keys...)
	}
	copyPID, err1 := backendPID(ctx, f.copyConn)
	readPID, err2 := backendPID(ctx, f.readConn)
	if err := errors.Join(err1, err2); err != nil {
		f.close()
		return nil, nil, err
	}
	return []point{
		{key: fmt.Sprintf("floor/pg/copy/%d/1", batch), clients: 1, server: procCPU(copyPID), run: func(ctx context.Context, _ int, rng *rand.Rand) (int, error) {
			_, err := f.copyBatch(ctx, rng, batch)
			return batch, err
		}},
		{key: fmt.Sprintf("floor/pg/any/%d/1", batch), clients: 1, server: procCPU(readPID), run: func(ctx context.Context, _ int, rng *rand.Rand) (int, error) {
			return batch, f.selectBatch(ctx, rng, batch)
		}},
	}, f.close, nil
}

// backendPID is the PostgreSQL server process serving conn (the server
// runs on this machine, so its CPU time is in /proc).
func backendPID(ctx context.Context, conn *pgx.Conn) (int, error) {
	var pid int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		return 0, fmt.Errorf("postgres floor: %w", err)
	}
	return pid, nil
}

// close closes the connections and drops the floor's database.
func (f *pgFloor) close() {
	ctx := context.Background()
	for _, c := range []*pgx.Conn{f.copyConn, f.readConn} {
		if c != nil {
			c.Close(ctx)
		}
	}
	if conn, err := pgx.Connect(ctx, f.admin); err == nil {
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+f.name)
		conn.Close(ctx)
	}
}

// copyBatch COPYs n random rows and returns their keys.
func (f *pgFloor) copyBatch(ctx context.Context, rng *rand.Rand, n int) ([][]byte, error) {
	keys := make([][]byte, n)
	rows := make([][]any, n)
	for i := range rows {
		kv := make([]byte, floorKeyLen+floorValueLen)
		for j := range kv {
			kv[j] = byte(rng.Uint32())
		}
		keys[i] = kv[:floorKeyLen:floorKeyLen]
		rows[i] = []any{keys[i], kv[floorKeyLen:]}
	}
	got, err := f.copyConn.CopyFrom(ctx, pgx.Identifier{pgFloorTable}, []string{"id", "v"}, pgx.CopyFromRows(rows))
	if err != nil {
		return nil, fmt.Errorf("postgres floor: copy: %w", err)
	}
	if got != int64(n) {
		return nil, fmt.Errorf("postgres floor: copy wrote %d rows, want %d", got, n)
	}
	return keys, nil
}

// selectBatch reads n distinct random preloaded keys with one query.
func (f *pgFloor) selectBatch(ctx context.Context, rng *rand.Rand, n int) error {
	seen := make(map[int]bool, n)
	keys := make([][]byte, 0, n)
	for len(keys) < n {
		i := rng.IntN(len(f.keys))
		if !seen[i] {
			seen[i] = true
			keys = append(keys, f.keys[i])
		}
	}
	rows, err := f.readConn.Query(ctx, "SELECT id, v FROM "+pgFloorTable+" WHERE id = ANY($1)", keys)
	if err != nil {
		return fmt.Errorf("postgres floor: select: %w", err)
	}
	got := 0
	var id, v []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &v}, func() error {
		got++
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres floor: select: %w", err)
	}
	if got != n {
		return fmt.Errorf("postgres floor: select found %d rows, want %d", got, n)
	}
	return nil
}
