package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// ErrNoStaging is returned by AppendStaged when the Log's journal does not
// take other writes (Options.Journal is not a TxJournal).
var ErrNoStaging = errors.New("audit: the journal takes no staged appends")

// Stages reports whether AppendStaged is available.
func (l *Log) Stages() bool { return l.tj != nil }

// AppendStaged appends the events stage returns, in one transaction of the
// journal (TxJournal.PutTx) with whatever stage writes through it: the
// writer calls stage on its goroutine, with the store's transaction, while
// it holds the store's write lock — so stage must be short and must not
// wait for the store or the log. The events are sealed with the rest of
// the batch and become durable with stage's writes by the journal's one
// sync. AppendStaged returns nil only once both are durable; it returns
// stage's own error (nothing of stage is then written) or the log's. stage
// may be called more than once (a batch given up because another stage
// failed, or split because the transaction was full, is tried again): it
// must write the same each time. If ctx ends first AppendStaged returns
// its error while stage may still run: a caller whose stage touches its
// own state passes a ctx that does not end (context.WithoutCancel).
func (l *Log) AppendStaged(ctx context.Context, stage func(tx any) ([]Event, error)) error {
	if l.tj == nil {
		return ErrNoStaging
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	done := donePool.Get().(chan result)
	req := request{stage: stage, done: done}
	select {
	case l.reqs <- req:
	case <-l.closing:
		donePool.Put(done)
		return ErrClosed
	case <-ctx.Done():
		donePool.Put(done)
		return ctx.Err()
	}
	select {
	case res := <-done:
		donePool.Put(done)
		return res.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commitStaged writes the staged appends of batch, and its small plain
// events, in one journal transaction, answers them, and returns the rest
// of batch (plain events too large for the journal) for the usual way.
func (l *Log) commitStaged(batch []request) (rest []request) {
	var in []request
	size := 0
	for _, req := range batch {
		if req.stage == nil {
			n := sizeHint(&req.ev)
			if n > journalMaxLine || size+n > journalMaxBatch {
				rest = append(rest, req)
				continue
			}
			size += n
		}
		in = append(in, req)
	}
	k := len(in) // the requests of the next transaction: in[:k]
	for len(in) > 0 {
		failed, err := l.writeStaged(in[:k])
		switch {
		case failed < 0: // in[:k] answered
			in = in[k:]
			k = len(in)
		case errors.Is(err, ErrTxFull) && failed == k && k > 1:
			k /= 2 // the lines did not fit: half the requests first
		case errors.Is(err, ErrTxFull) && failed > 0 && failed < k:
			k = failed // the requests before the one that did not fit first
		default:
			// One stage failed, or one request is too large alone: nothing
			// was written. Its caller hears why, the others go again
			// without it.
			failed = min(failed, k-1)
			in[failed].done <- result{err: err}
			in = slices.Delete(in, failed, failed+1)
			k = len(in)
		}
	}
	return rest
}

// writeStaged makes reqs durable in one journal transaction and answers
// every one of them, or returns the position of the request whose stage
// failed, and its error, having written nothing and answered none. A
// transaction that outgrew the journal's store (ErrTxFull) writes nothing
// and answers none either: failed is then the request that did not fit,
// or len(reqs) if the lines did not.
func (l *Log) writeStaged(reqs []request) (failed int, err error) {
	failed = -1
	answer := func(err error) {
		k := 0 // position in l.evs of a plain request's event
		for _, req := range reqs {
			switch {
			case err != nil:
				req.done <- result{err: err}
			case req.stage == nil:
				req.done <- result{ev: l.evs[l.at[k]]}
				k++
			default:
				req.done <- result{}
			}
		}
		clear(l.evs)
	}
	if l.err != nil {
		answer(l.err)
		return -1, nil
	}
	var (
		buf  []byte
		seq  uint64
		last string
	)
	wait, err := l.tj.PutTx(func(tx any) (uint64, [][]byte, error) {
		l.evs, l.at = l.evs[:0], l.at[:0]
		for i, req := range reqs {
			if req.stage == nil {
				l.at = append(l.at, len(l.evs))
				l.evs = append(l.evs, req.ev)
				continue
			}
			evs, err := req.stage(tx)
			for k := 0; err == nil && k < len(evs); k++ {
				err = validate(&evs[k])
			}
			if err != nil {
				failed = i
				return 0, nil, err
			}
			l.evs = append(l.evs, evs...)
		}
		buf, seq, last = l.encode(l.evs)
		l.lines = l.lines[:0]
		start := 0
		for _, e := range l.ends {
			l.lines = append(l.lines, buf[start:e-1])
			start = e
		}
		return l.seq + 1, l.lines, nil
	})
	clear(l.lines)
	switch {
	case failed >= 0:
		clear(l.evs)
		return failed, err
	case errors.Is(err, ErrTxFull):
		clear(l.evs)
		return len(reqs), err
	case err != nil:
		answer(l.fail(fmt.Errorf("audit: journal: %w", err)))
		return -1, nil
	}
	if err := l.journaled(buf, wait); err != nil {
		answer(err)
		return -1, nil
	}
	l.seq, l.last = seq, last
	l.since += len(l.evs)
	answer(l.anchored(false))
	return -1, nil
}

// sizeHint is a generous estimate of the bytes of ev's line.
func sizeHint(ev *Event) int {
	n := 512 + len(ev.Caller) + len(ev.Purpose) + len(ev.Class) + len(ev.Subject) + len(ev.Reason)
	for _, t := range ev.Tokens {
		n += len(t) + 3
	}
	return n
}
