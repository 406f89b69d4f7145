package pgsink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/privacyvault/privacyvault/audit"
)

// run is the writer goroutine: it takes one waiting Record, then every
// other one already waiting, and commits them in order: events without a
// joint transaction share one transaction, each joint transaction commits
// its calls' records and events.
func (s *Sink) run() {
	defer close(s.exited)
	var batch []request
	for {
		select {
		case req := <-s.reqs:
			batch = append(batch[:0], req)
		drain:
			for len(batch) < maxBatch {
				select {
				case req := <-s.reqs:
					batch = append(batch, req)
				default:
					break drain
				}
			}
			s.commit(batch)
			clear(batch)
		case <-s.closing:
			if s.h.Since > 0 {
				ctx, cancel := context.WithTimeout(context.Background(), signTimeout+opTimeout)
				s.closeErr = s.checkpoint(ctx)
				cancel()
			}
			return
		}
	}
}

func (s *Sink) commit(batch []request) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var plain []request
	var evs []audit.Event
	flush := func() {
		if len(plain) == 0 {
			return
		}
		err := s.write(ctx, nil, evs)
		for _, r := range plain {
			r.done <- err
		}
		plain, evs = plain[:0], evs[:0]
	}
	for _, r := range batch {
		if r.jt == nil {
			plain = append(plain, r)
			evs = append(evs, r.evs...)
			continue
		}
		flush()
		r.done <- s.writeJoint(ctx, r)
	}
	flush()
	if s.h.Since >= s.every && !time.Now().Before(s.retryAt) {
		if err := s.checkpoint(ctx); err != nil {
			s.report(err)
		}
	}
}

// jointTx is what the sink needs of a transaction it appends to and
// commits: a pgx.Tx, or the store's joint transaction (which pipelines its
// BEGIN with its first statement).
type jointTx interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// writeJoint takes the records of the calls that left out of r's joint
// transaction and commits the others' events in it.
func (s *Sink) writeJoint(ctx context.Context, r request) error {
	tx, ok := r.jt.Tx().(jointTx)
	if !ok {
		return errors.New("audit/pgsink: the joint transaction is not a database transaction")
	}
	if err := r.jt.Undo(ctx, r.left); err != nil {
		tx.Rollback(context.Background())
		return dbErr("taking out the records of calls without events", err)
	}
	return s.write(ctx, tx, r.evs)
}

// write appends evs to the chain in tx (a joint transaction, committed
// here) or in a transaction of its own. On failure nothing was written
// (or, if the commit's outcome is unknown, the head is reloaded first).
func (s *Sink) write(ctx context.Context, tx jointTx, evs []audit.Event) error {
	if tx != nil {
		defer tx.Rollback(context.Background()) // no-op after Commit
	}
	if err := s.lostErr(); err != nil {
		return err
	}
	if s.dirty {
		r, err := s.loadHead(ctx)
		if err != nil {
			return err
		}
		s.pos, s.h, s.dirty = r.pos, r.h, false
		s.publish()
	}
	recs, h, err := audit.SealEvents(s.h, evs, time.Now())
	if err != nil {
		return err
	}
	if err := s.append(ctx, tx, recs, h); err != nil {
		return err
	}
	s.h = h
	s.publish()
	return nil
}

// append inserts recs after the chain's current position and moves the
// chain row to h, in tx or a new transaction, and commits. The update is
// conditional on this holder and the old position, so a process that lost
// the chain, or a second writer, cannot add a record.
func (s *Sink) append(ctx context.Context, tx jointTx, recs []audit.Sealed, h audit.ChainHead) error {
	if tx == nil {
		var err error
		if tx, err = s.pool.Begin(ctx); err != nil {
			return dbErr("writing the chain", err)
		}
		defer tx.Rollback(context.Background())
	}
	n := len(recs)
	pos, seqs, hashes := make([]int64, n), make([]int64, n), make([]string, n)
	subjects, lines := make([]*string, n), make([]string, n)
	for i, r := range recs {
		pos[i], seqs[i], hashes[i], lines[i] = int64(s.pos)+int64(i)+1, int64(r.Seq), r.Hash, string(r.Line)
		if r.Subject != "" {
			subjects[i] = &r.Subject
		}
	}
	// Both statements in one round trip; the commit is the second.
	b := &pgx.Batch{}
	b.Queue(`UPDATE pv_audit_chains SET pos = $4, seq = $5, hash = $6, checkpoint_seq = $7, since = $8
WHERE instance = $1 AND holder = $2 AND pos = $3`, s.instance, s.holder, s.pos, s.pos+uint64(n), h.Seq, h.Hash, h.CheckpointSeq, h.Since)
	b.Queue(`INSERT INTO pv_audit_records (instance, pos, seq, hash, subject, line)
SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])`,
		s.instance, pos, seqs, hashes, subjects, lines)
	br := tx.SendBatch(ctx, b)
	tag, err := br.Exec()
	if err == nil && tag.RowsAffected() == 0 {
		br.Close()
		s.mu.Lock()
		s.lost = fmt.Errorf("audit/pgsink: instance %q: %w", s.instance, ErrChainHeld)
		s.mu.Unlock()
		return s.lost
	}
	if err == nil {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return dbErr("writing the chain", err)
	}
	if err := tx.Commit(ctx); err != nil {
		// The commit may have happened: read the head again before the
		// next write rather than guess.
		s.dirty = true
		return dbErr("committing the chain", err)
	}
	s.pos += uint64(n)
	return nil
}

// checkpoint signs the chain so far and appends the checkpoint. A signing
// failure is retried after signRetry; the events stay durable.
func (s *Sink) checkpoint(ctx context.Context) error {
	if s.dirty {
		if err := s.write(ctx, nil, nil); err != nil {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(ctx, signTimeout)
	rec, h, err := audit.SealCheckpoint(sctx, s.signer, s.h, time.Now())
	cancel()
	if err != nil {
		s.retryAt = time.Now().Add(signRetry)
		return err
	}
	if err := s.append(ctx, nil, []audit.Sealed{rec}, h); err != nil {
		return err
	}
	s.h, s.retryAt = h, time.Time{}
	s.publish()
	var errs []error
	for _, a := range s.anchors {
		if err := a.SaveHead(ctx, h.Head); err != nil {
			errs = append(errs, fmt.Errorf("audit/pgsink: recording the chain head in the %s: %w", a.Name(), err))
		}
	}
	return errors.Join(errs...)
}
