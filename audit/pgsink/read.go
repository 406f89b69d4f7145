package pgsink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privacyvault/privacyvault/audit"
)

// Reader reads every instance's chain in the database: the fleet's audit
// trail.
type Reader struct {
	Pool *pgxpool.Pool
	// Heads returns, for an instance, heads recorded outside the database
	// (this process's own head in memory, the copy in Vault) that its
	// chain must reach; nil means none.
	Heads func(ctx context.Context, instance string) ([]NamedHead, error)
}

// NamedHead is a head and where it was recorded.
type NamedHead struct {
	Where string
	Head  audit.Head
}

// ChainResult is the verification of one instance's chain.
type ChainResult struct {
	Instance string
	Summary  audit.Summary
	// Err is a *audit.VerifyError or *audit.HeadError describing the
	// first problem, or nil.
	Err error
}

// Instances lists the chains in the database.
func (r Reader) Instances(ctx context.Context) ([]string, error) {
	rows, err := r.Pool.Query(ctx, `SELECT instance FROM pv_audit_chains ORDER BY instance`)
	if err != nil {
		return nil, dbErr("listing chains", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, dbErr("listing chains", err)
}

// Verify checks every instance's chain: its hash chain and checkpoint
// signatures (audit.Verify over its lines in order), and that it reaches
// the head recorded in its chain row and in every head Heads returns. An
// error is returned only when the chains could not be read.
func (r Reader) Verify(ctx context.Context, v audit.Verifier) ([]ChainResult, error) {
	names, err := r.Instances(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ChainResult, 0, len(names))
	for _, name := range names {
		res, err := r.verifyChain(ctx, name, v)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

func (r Reader) verifyChain(ctx context.Context, name string, v audit.Verifier) (ChainResult, error) {
	res := ChainResult{Instance: name}
	var row audit.Head
	if err := r.Pool.QueryRow(ctx, `SELECT seq, hash FROM pv_audit_chains WHERE instance = $1`, name).Scan(&row.Seq, &row.Hash); err != nil {
		return res, dbErr("reading the chain head", err)
	}
	heads := []NamedHead{{Where: "database chain row", Head: row}}
	if r.Heads != nil {
		more, err := r.Heads(ctx, name)
		if err != nil {
			return res, err
		}
		heads = append(heads, more...)
	}
	lines := r.lines(ctx, `SELECT line FROM pv_audit_records WHERE instance = $1 ORDER BY pos`, name)
	sum, err := audit.Verify(lines, v)
	lines.Close() // Verify stops at the first problem: end the query
	var ve *audit.VerifyError
	switch {
	case errors.As(err, &ve):
		ve.Msg = fmt.Sprintf("instance %s: %s", name, ve.Msg)
		res.Summary, res.Err = sum, ve
		return res, nil
	case err != nil:
		return res, err
	}
	res.Summary = sum
	for _, h := range heads {
		if err := r.reaches(ctx, name, sum, h); err != nil {
			var he *audit.HeadError
			if !errors.As(err, &he) {
				return res, err
			}
			res.Err = err
			return res, nil
		}
	}
	return res, nil
}

// reaches checks that the verified chain contains h's record.
func (r Reader) reaches(ctx context.Context, name string, sum audit.Summary, h NamedHead) error {
	if h.Head.Hash == "" || h.Head.Hash == sum.LastHash {
		return nil
	}
	var seq uint64
	err := r.Pool.QueryRow(ctx, `SELECT seq FROM pv_audit_records WHERE instance = $1 AND hash = $2`, name, h.Head.Hash).Scan(&seq)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return dbErr("reading the chain", err)
	}
	if err == nil && sum.LastSeq >= h.Head.Seq {
		return nil
	}
	kind := audit.KindDiverged
	if sum.LastSeq < h.Head.Seq {
		kind = audit.KindBehind
	}
	return &audit.HeadError{Kind: kind, Where: h.Where + " (instance " + name + ")",
		Log: audit.Head{Seq: sum.LastSeq, Hash: sum.LastHash}, Recorded: h.Head}
}

// lines streams a query's single text column as newline-terminated lines;
// closing it ends the query.
func (r Reader) lines(ctx context.Context, sql string, args ...any) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		rows, err := r.Pool.Query(ctx, sql, args...)
		if err != nil {
			pw.CloseWithError(dbErr("reading the chain", err))
			return
		}
		defer rows.Close()
		var line string
		for rows.Next() {
			if err := rows.Scan(&line); err != nil {
				pw.CloseWithError(dbErr("reading the chain", err))
				return
			}
			if _, err := io.WriteString(pw, line+"\n"); err != nil {
				return // the reader stopped
			}
		}
		pw.CloseWithError(dbErr("reading the chain", rows.Err()))
	}()
	return pr
}

// SubjectReport lists every event of every chain whose subject
// fingerprint is fp, oldest first.
func (r Reader) SubjectReport(ctx context.Context, fp string) ([]audit.Access, error) {
	names, err := r.Instances(ctx)
	if err != nil {
		return nil, err
	}
	var out []audit.Access
	for _, name := range names {
		lines := r.lines(ctx, `SELECT line FROM pv_audit_records WHERE instance = $1 AND subject = $2 ORDER BY pos`, name, fp)
		acc, err := audit.SubjectReport(lines, fp)
		lines.Close()
		if err != nil {
			return nil, err
		}
		for _, a := range acc {
			a.Instance = name
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b audit.Access) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// IdentityReport summarises identity's events of every chain in
// [since, until).
func (r Reader) IdentityReport(ctx context.Context, identity string, since, until time.Time) (audit.IdentityReport, error) {
	// Every chain's lines, one after the other: the report only reads
	// events, it does not check the chain.
	lines := r.lines(ctx, `SELECT line FROM pv_audit_records ORDER BY instance, pos`)
	defer lines.Close()
	return audit.ReportIdentity(lines, identity, since, until)
}

// tailPoll is how often Tail looks for new records.
const tailPoll = 200 * time.Millisecond

// Tail sends the records of every chain whose seq is at least fromSeq,
// as stored, one instance's lines per send, then follows every chain
// (new instances included) until ctx ends, when it returns ctx.Err().
func (r Reader) Tail(ctx context.Context, fromSeq uint64, send func(instance string, lines []string) error) error {
	after := map[string]int64{} // last pos sent per instance
	tick := time.NewTicker(tailPoll)
	defer tick.Stop()
	for {
		names, err := r.Instances(ctx)
		if err != nil {
			return err
		}
		for _, name := range names {
			for {
				n, err := r.tailChain(ctx, name, fromSeq, after, send)
				if err != nil {
					return err
				}
				if n < tailPage {
					break
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

const tailPage = 500

func (r Reader) tailChain(ctx context.Context, name string, fromSeq uint64, after map[string]int64, send func(string, []string) error) (int, error) {
	rows, err := r.Pool.Query(ctx, `SELECT pos, seq, line FROM pv_audit_records WHERE instance = $1 AND pos > $2 ORDER BY pos LIMIT $3`,
		name, after[name], tailPage)
	if err != nil {
		return 0, dbErr("reading the chain", err)
	}
	var (
		pos, seq int64
		line     string
		lines    []string
		n        int
	)
	_, err = pgx.ForEachRow(rows, []any{&pos, &seq, &line}, func() error {
		n++
		after[name] = pos
		if uint64(seq) >= fromSeq {
			lines = append(lines, strings.Clone(line))
		}
		return nil
	})
	if err != nil {
		return 0, dbErr("reading the chain", err)
	}
	if len(lines) > 0 {
		if err := send(name, lines); err != nil {
			return 0, err
		}
	}
	return n, nil
}
