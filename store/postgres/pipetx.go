package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// insertTx is a transaction for inserts: its statements, then Commit or
// Rollback.
type insertTx interface {
	querier
	copier
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// txBeginner begins insert transactions.
type txBeginner interface {
	Begin(ctx context.Context) (insertTx, error)
}

// pipePool begins pipeTx transactions on a pool's connections.
type pipePool struct{ pool *pgxpool.Pool }

// Begin implements txBeginner: it takes a connection and sends nothing.
func (p pipePool) Begin(ctx context.Context) (insertTx, error) {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &pipeTx{conn: conn}, nil
}

// pipeTx is a transaction whose BEGIN travels with its first query in one
// pipeline (one round trip instead of two): a unary tokenize costs the
// round trips of its INSERT and its COMMIT only. Plain SQL, so the same
// on CockroachDB and YugabyteDB.
type pipeTx struct {
	conn  *pgxpool.Conn
	begun bool
	ended bool // committed or rolled back: the connection is back in the pool
}

var _ insertTx = (*pipeTx)(nil)

// begin sends BEGIN on its own, for a first statement that does not go
// through Query (QueryRow, Exec).
func (t *pipeTx) begin(ctx context.Context) error {
	if t.begun {
		return nil
	}
	t.begun = true
	_, err := t.conn.Exec(ctx, "BEGIN")
	return err
}

// Query implements querier.
func (t *pipeTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.begun {
		return t.conn.Query(ctx, sql, args...)
	}
	t.begun = true
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(sql, args...)
	br := t.conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// QueryRow implements querier.
func (t *pipeTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := t.begin(ctx); err != nil {
		return errRow{err}
	}
	return t.conn.QueryRow(ctx, sql, args...)
}

// Exec implements querier.
func (t *pipeTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := t.begin(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return t.conn.Exec(ctx, sql, args...)
}

// errTxRolledBack: COMMIT answered ROLLBACK (a statement of the
// transaction had failed).
var errTxRolledBack = errors.New("store/postgres: the transaction was rolled back")

// SendBatch sends b in the transaction (for the audit sink, which appends
// a joint transaction's events with it).
func (t *pipeTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := t.begin(ctx); err != nil {
		return errBatch{err}
	}
	return t.conn.SendBatch(ctx, b)
}

// Commit commits and returns the connection to the pool; after Commit or
// Rollback it does nothing.
func (t *pipeTx) Commit(ctx context.Context) error {
	if t.ended {
		return nil
	}
	t.ended = true
	defer t.conn.Release()
	if !t.begun {
		return nil
	}
	tag, err := t.conn.Exec(ctx, "COMMIT")
	if err != nil {
		return err
	}
	if tag.String() != "COMMIT" {
		return errTxRolledBack
	}
	return nil
}

// Rollback rolls back and returns the connection to the pool (which
// closes it if it is not idle afterwards).
func (t *pipeTx) Rollback(ctx context.Context) error {
	if t.ended {
		return nil
	}
	t.ended = true
	defer t.conn.Release()
	if !t.begun {
		return nil
	}
	_, err := t.conn.Exec(ctx, "ROLLBACK")
	return err
}

// batchRows are a pipeline's rows: closing them finishes the pipeline, so
// the connection can take the next statement.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if !r.closed {
		r.closed = true
		// An error here leaves the connection unusable: the COMMIT
		// that follows fails, so nothing is acknowledged.
		_ = r.br.Close()
	}
}

// errBatch is BatchResults whose every result is err.
type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow(b) }
func (b errBatch) Close() error                     { return b.err }

// errRow is a Row whose Scan returns err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
