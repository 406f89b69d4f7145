package audit

import (
	"errors"
	"fmt"
	"io"
)

// Kinds of VerifyError.
const (
	KindEdited        = "edited"         // a record's content changed
	KindDeleted       = "deleted"        // events are missing
	KindInserted      = "inserted"       // a record that is not part of the chain
	KindReordered     = "reordered"      // records out of order
	KindBadCheckpoint = "bad_checkpoint" // a checkpoint signature does not verify
	KindMalformed     = "malformed"      // a line that is not a record
	// KindUnverifiable: a checkpoint signature could not be checked at all
	// (the verifier failed, e.g. Vault unreachable). Not a finding of
	// tampering: verification is incomplete.
	KindUnverifiable = "unverifiable"
)

// ErrVerifierUnavailable is wrapped by Verifier errors that mean the
// signature could not be checked (as opposed to ErrBadSignature).
var ErrVerifierUnavailable = errors.New("audit: the signature could not be checked now")

// VerifyError locates the first problem Verify found.
type VerifyError struct {
	Line int    // 1-based line of the record concerned
	Seq  uint64 // its seq (the first missing seq for KindDeleted); 0 if unknown
	Kind string // one of the Kind constants
	Msg  string // e.g. "line 17: event seq 15 was edited (hash mismatch)"
}

var _ error = (*VerifyError)(nil)

// Error returns Msg prefixed with "audit: ".
func (e *VerifyError) Error() string { return "audit: " + e.Msg }

func fail(line int, seq uint64, kind, format string, args ...any) error {
	return &VerifyError{Line: line, Seq: seq, Kind: kind, Msg: fmt.Sprintf("line %d: ", line) + fmt.Sprintf(format, args...)}
}

// Summary describes a verified log.
type Summary struct {
	Events      int // event records
	Checkpoints int // checkpoint records
	LastSeq     uint64
	// LastCheckpointSeq is the seq covered by the last checkpoint. Events
	// after it are chained but not signed, so their truncation or
	// rewriting is undetectable without an external anchor.
	LastCheckpointSeq uint64
	LastHash          string // hash of the last record, for comparing with an anchor
}

// Verify reads a log and checks its chain, its seq numbering and the
// checkpoint signatures with v (a nil v fails every checkpoint). It returns
// the summary of the log, or of the part before the first problem together
// with a *VerifyError describing the problem; other errors come from r.
// See the package documentation for what it can and cannot detect.
func Verify(r io.Reader, v Verifier) (Summary, error) {
	c := &chain{lr: newLineReader(r), v: v}
	cur, err := c.read()
	for cur != nil && err == nil {
		var next *record
		if next, err = c.read(); err != nil {
			break
		}
		if err = c.check(cur, next); err != nil {
			break
		}
		c.accept(cur)
		cur = next
	}
	return c.sum, err
}

// chain is Verify's state: the accepted prefix of the log.
type chain struct {
	lr  *lineReader
	v   Verifier
	sum Summary

	lastSeq uint64 // seq of the last accepted event
	hash    string // hash of the last accepted record
	// The last accepted record and the state before it, to unmask it as
	// inserted when the record after it chains past it.
	prev          *record
	hashBefore    string
	lastSeqBefore uint64
}

// read returns the next line as a record, or nil at the end.
func (c *chain) read() (*record, error) {
	line, complete, err := c.lr.next()
	switch {
	case err == io.EOF:
		return nil, nil
	case err == errLineTooLong:
		return &record{line: c.lr.n, err: err}, nil
	case err != nil:
		return nil, fmt.Errorf("audit: reading line %d: %w", c.lr.n+1, err)
	}
	r := parseRecord(line)
	r.line = c.lr.n
	if !complete {
		r.err = errors.New("torn last line: no trailing newline (a crash during a write, or a write in progress)")
	}
	return &r, nil
}

// precedingSeq returns the seq of the event that must come just before r.
func precedingSeq(r *record) uint64 {
	if r.ckpt {
		return r.seq()
	}
	return r.seq() - 1
}

// check decides whether cur extends the accepted chain; next is the line
// after it (nil at the end). The order of the tests matters: each later
// test assumes the earlier ones passed.
func (c *chain) check(cur, next *record) error {
	if cur.err != nil {
		return fail(cur.line, 0, KindMalformed, "not a valid record (%v)", cur.err)
	}
	sigErr := c.signature(cur)
	if errors.Is(sigErr, ErrVerifierUnavailable) {
		return fail(cur.line, cur.seq(), KindUnverifiable, "%s could not be checked (%v): verification incomplete", cur, sigErr)
	}
	fits := cur.hashOK && sigErr == nil && cur.prev() == c.hash && precedingSeq(cur) == c.lastSeq
	// Without cur the chain would hold, and cur is not simply swapped with
	// next (a swapped cur chains to next): cur was slipped in.
	if !fits && next != nil && next.err == nil && next.prev() == c.hash && cur.prev() != next.hash() {
		return fail(cur.line, cur.seq(), KindInserted, "%s is not part of the chain (inserted)", cur)
	}
	switch {
	case sigErr != nil:
		return fail(cur.line, cur.seq(), KindBadCheckpoint,
			"%s has a bad signature (%v): it or the chain before it was rewritten (bad_checkpoint)", cur, sigErr)
	case !cur.canonical:
		return fail(cur.line, cur.seq(), KindEdited, "%s was edited (not in canonical form)", cur)
	case !cur.hashOK:
		return fail(cur.line, cur.seq(), KindEdited, "%s was edited (hash mismatch)", cur)
	}
	// cur chains to the record before the last accepted one, which must
	// then have been slipped in with a valid hash.
	if c.prev != nil && cur.prev() != c.hash && cur.prev() == c.hashBefore && precedingSeq(cur) == c.lastSeqBefore {
		return fail(c.prev.line, c.prev.seq(), KindInserted, "%s is not part of the chain (inserted)", c.prev)
	}
	switch before := precedingSeq(cur); {
	case before > c.lastSeq:
		return c.gap(cur, next, before)
	case before < c.lastSeq:
		return fail(cur.line, cur.seq(), KindInserted, "%s appears after seq %d and is not part of the chain (inserted)", cur, c.lastSeq)
	}
	if cur.prev() != c.hash {
		// The record cur chained to comes later in the file: swapped.
		moved, after, err := c.find(next, max(c.lastSeq, cur.seq()), func(r *record) bool {
			return cur.prev() != "" && r.hash() == cur.prev()
		})
		if err != nil {
			return err
		}
		if moved != nil {
			return fail(moved.line, moved.seq(), KindReordered, "%s appears after seq %d (reordered)", moved, after)
		}
		if c.prev == nil {
			return fail(cur.line, cur.seq(), KindEdited, "%s was edited (the first record must have an empty prev)", cur)
		}
		// The hash of the record before no longer matches what cur
		// recorded: it was edited and its hash recomputed. (A deleted
		// checkpoint between them leaves the same trace.)
		return fail(c.prev.line, c.prev.seq(), KindEdited,
			"%s was edited (its hash does not match the prev of line %d, or a checkpoint after it was deleted)", c.prev, cur.line)
	}
	return nil
}

// gap handles cur claiming that events up to seq hi came before it when
// the chain has only reached c.lastSeq: the first missing event is either
// further down the file (reordered) or gone (deleted).
func (c *chain) gap(cur, next *record, hi uint64) error {
	missing := c.lastSeq + 1
	moved, after, err := c.find(next, max(c.lastSeq, cur.seq()), func(r *record) bool {
		return !r.ckpt && r.seq() == missing
	})
	if err != nil {
		return err
	}
	if moved != nil {
		return fail(moved.line, missing, KindReordered, "%s appears after seq %d (reordered)", moved, after)
	}
	what := fmt.Sprintf("event seq %d", missing)
	if hi > missing {
		what = fmt.Sprintf("events seq %d..%d", missing, hi)
	}
	where := fmt.Sprintf("after seq %d", c.lastSeq)
	switch {
	case cur.ckpt:
		where = "before the " + cur.String()
	case c.lastSeq == 0:
		where = "at the start of the log"
	}
	return fail(cur.line, missing, KindDeleted, "%s missing %s (deleted)", what, where)
}

// find reads on from next, which is consumed, for the first record
// matching match. It returns it with the highest event seq seen before it,
// starting from seen, or nil at the end.
func (c *chain) find(next *record, seen uint64, match func(*record) bool) (*record, uint64, error) {
	for r := next; r != nil; {
		if r.err == nil {
			if match(r) {
				return r, seen, nil
			}
			if !r.ckpt {
				seen = max(seen, r.seq())
			}
		}
		var err error
		if r, err = c.read(); err != nil {
			return nil, 0, err
		}
	}
	return nil, 0, nil
}

// signature verifies a checkpoint's signature; nil for events.
func (c *chain) signature(r *record) error {
	switch {
	case !r.ckpt:
		return nil
	case c.v == nil:
		return errors.New("no verifier")
	}
	return c.v.Verify(r.cp.KeyID, r.cp.message(), r.cp.Sig)
}

// accept appends a checked record to the chain.
func (c *chain) accept(r *record) {
	c.prev, c.hashBefore, c.lastSeqBefore = r, c.hash, c.lastSeq
	c.hash = r.hash()
	if r.ckpt {
		c.sum.Checkpoints++
		c.sum.LastCheckpointSeq = r.seq()
	} else {
		c.sum.Events++
		c.lastSeq = r.seq()
	}
	c.sum.LastSeq, c.sum.LastHash = c.lastSeq, c.hash
}
