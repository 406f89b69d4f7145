package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Head is the position of a log's chain: what an Anchor keeps outside the
// log so that a shortened, replaced or rewritten log is noticed.
type Head struct {
	Seq  uint64 `json:"seq"`  // last event seq
	Hash string `json:"hash"` // hash of the last record (event or checkpoint)
	// CheckpointSeq is the seq covered by the last signed checkpoint this
	// process knows of (0 if none yet).
	CheckpointSeq uint64 `json:"checkpoint_seq"`
	// Checkpoint reports whether the last record is a checkpoint.
	Checkpoint bool `json:"checkpoint"`
}

func (h Head) String() string {
	if h.Hash == "" {
		return "seq 0 (empty log)"
	}
	return fmt.Sprintf("seq %d hash %s", h.Seq, h.Hash)
}

// Anchor keeps a copy of the chain head outside the log (the store, Vault).
type Anchor interface {
	// LoadHead returns the recorded head, or ok false if none was ever
	// recorded.
	LoadHead(ctx context.Context) (h Head, ok bool, err error)
	// SaveHead records h. It is called by the goroutine that writes the
	// log after every durable write, before the appends are answered; an
	// error fails them (the head could not be anchored).
	SaveHead(ctx context.Context, h Head) error
	// Name says where the head is kept, for messages ("store", "vault").
	Name() string
}

// Kinds of HeadError.
const (
	KindBehind   = "truncated" // the log ends before the recorded head
	KindDiverged = "diverged"  // the log does not contain the recorded head
)

// ErrHeadMismatch is wrapped by HeadError.
var ErrHeadMismatch = errors.New("audit: log does not reach the recorded chain head")

// HeadError says how a log differs from a recorded head.
type HeadError struct {
	Kind     string // KindBehind or KindDiverged
	Where    string // the anchor, e.g. "store"
	Log      Head   // the log's own head
	Recorded Head   // the recorded head
}

func (e *HeadError) Error() string {
	what := "ends before"
	if e.Kind == KindDiverged {
		what = "does not contain"
	}
	return fmt.Sprintf("audit: the log (at %s) %s the chain head recorded in the %s (%s): it was truncated, deleted or replaced (%s)",
		e.Log, what, e.Where, e.Recorded, e.Kind)
}

// Unwrap returns ErrHeadMismatch.
func (e *HeadError) Unwrap() error { return ErrHeadMismatch }

// OpReset is the op of the event Open writes when the operator accepted a
// log that does not reach the recorded head (Options.AcceptReset).
const OpReset Op = "audit.reset"

// ErrFileReplaced is the sticky error of a Log whose file was deleted or
// replaced under it: appending to the old inode would write events nobody
// can read, so every Append fails until the process restarts.
var ErrFileReplaced = errors.New("audit: the log file was deleted or replaced while open; refusing to write (restart to check it against the recorded head)")

// headState is the Log's head as other goroutines may read it.
type headState struct {
	mu      sync.Mutex
	head    Head
	anchors []Anchor
	ckpt    uint64
	file    os.FileInfo // identity of the open file
}

// Head returns the chain head as written so far (for comparing a copy of
// the file, or the file itself, with what this process wrote).
func (l *Log) Head() Head {
	l.hs.mu.Lock()
	defer l.hs.mu.Unlock()
	return l.hs.head
}

// anchored publishes the head after a durable write and saves it in every
// anchor. ckpt says whether the last record is a checkpoint.
func (l *Log) anchored(ckpt bool) error {
	if ckpt {
		l.hs.ckpt = l.seq
	}
	h := Head{Seq: l.seq, Hash: l.last, CheckpointSeq: l.hs.ckpt, Checkpoint: ckpt}
	l.hs.mu.Lock()
	l.hs.head = h
	l.hs.mu.Unlock()
	for _, a := range l.hs.anchors {
		ctx, cancel := context.WithTimeout(context.Background(), signTimeout)
		err := a.SaveHead(ctx, h)
		cancel()
		if err != nil {
			l.err = fmt.Errorf("audit: recording the chain head in the %s: %w", a.Name(), err)
			l.report(l.err)
			return l.err
		}
	}
	return nil
}

// checkFile fails when the path no longer names the open file.
func (l *Log) checkFile() error {
	if l.hs.file == nil {
		return nil
	}
	st, err := os.Stat(l.path)
	if err != nil || !os.SameFile(st, l.hs.file) {
		return ErrFileReplaced
	}
	return nil
}

// checkAnchors compares the recovered chain with every recorded head. A
// log that contains a recorded head (it may have gone further, when an
// anchor is written less often) passes. Otherwise Open fails with a
// *HeadError, unless accept is set: then the reset is written as an
// OpReset event naming both heads.
func (l *Log) checkAnchors(accept bool) error {
	st, err := l.f.Stat()
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	l.hs.file = st
	mine := Head{Seq: l.seq, Hash: l.last}
	var mismatches []string
	for _, a := range l.hs.anchors {
		ctx, cancel := context.WithTimeout(context.Background(), signTimeout)
		rec, ok, err := a.LoadHead(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("audit: reading the chain head recorded in the %s: %w", a.Name(), err)
		}
		if !ok || rec.Hash == "" || rec.Hash == l.last {
			if ok && rec.Hash == l.last {
				l.hs.ckpt = rec.CheckpointSeq
			}
			continue
		}
		found, err := containsHash(l.f, rec.Hash)
		if err != nil {
			return fmt.Errorf("audit: reading %s: %w", l.path, err)
		}
		if found && l.seq >= rec.Seq {
			continue
		}
		kind := KindDiverged
		if l.seq < rec.Seq {
			kind = KindBehind
		}
		herr := &HeadError{Kind: kind, Where: a.Name(), Log: mine, Recorded: rec}
		if !accept {
			return herr
		}
		mismatches = append(mismatches, herr.Error())
	}
	for _, m := range mismatches {
		ev := Event{Caller: "privacyvault/operator", Op: OpReset, Decision: DecisionAllow,
			Reason: "accepted by the operator (--accept-audit-log-reset): " + m}
		if err := l.write([]Event{ev}); err != nil {
			return err
		}
	}
	return nil
}

// containsHash reports whether some line of f ends with hash, searching
// from the end (a recorded head is usually close to it).
func containsHash(f *os.File, hash string) (bool, error) {
	needle := []byte(`,"hash":"` + hash + `"}` + "\n")
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	const chunk = 1 << 20
	buf := make([]byte, chunk+len(needle))
	for end := st.Size(); end > 0; {
		start := max(0, end-chunk)
		n := int(min(int64(len(buf)), st.Size()-start))
		if _, err := f.ReadAt(buf[:n], start); err != nil && err != io.EOF {
			return false, err
		}
		if bytes.Contains(buf[:n], needle) {
			return true, nil
		}
		end = start
	}
	return false, nil
}

// CheckHead reports whether the log f, whose verified summary is sum,
// reaches head: nil if it does (it may have grown since), else a
// *HeadError naming where the head came from.
func CheckHead(f *os.File, sum Summary, head Head, where string) error {
	if head.Hash == "" || sum.LastHash == head.Hash {
		return nil
	}
	found, err := containsHash(f, head.Hash)
	if err != nil {
		return err
	}
	if found && sum.LastSeq >= head.Seq {
		return nil
	}
	kind := KindDiverged
	if sum.LastSeq < head.Seq {
		kind = KindBehind
	}
	return &HeadError{Kind: kind, Where: where, Log: Head{Seq: sum.LastSeq, Hash: sum.LastHash}, Recorded: head}
}
