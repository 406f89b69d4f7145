package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// tailPoll is how often Tail looks for new lines.
const tailPoll = 200 * time.Millisecond

// Tail writes the records of the log file at path whose seq is at least
// fromSeq to w, one JSON line each, exactly as stored, then follows the
// file for new ones until ctx ends, when it returns ctx.Err(). Checkpoint
// lines (starting {"type":"checkpoint",) are included: a SIEM keeping them
// holds an external anchor, and its copy can itself be passed to Verify
// when fromSeq is 0 or 1. Only complete lines are written, so a write in
// progress, or a torn line that Open later truncates, is never sent.
func Tail(ctx context.Context, path string, fromSeq uint64, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	t := &tailer{f: f, from: fromSeq, w: w}
	tick := time.NewTicker(tailPoll)
	defer tick.Stop()
	for {
		if err := t.poll(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

type tailer struct {
	f    *os.File
	from uint64
	w    io.Writer
	off  int64 // start of the first line not yet read completely
}

// poll writes every complete line from t.off on. It re-reads an incomplete
// last line from its start next time rather than keeping its bytes, which
// may be truncated away by Open.
func (t *tailer) poll() error {
	if _, err := t.f.Seek(t.off, io.SeekStart); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	lr := newLineReader(t.f)
	for {
		line, complete, err := lr.next()
		switch {
		case err == io.EOF || err == nil && !complete:
			return nil
		case errors.Is(err, errLineTooLong):
			return fmt.Errorf("audit: %s offset %d: %w", t.f.Name(), t.off, err)
		case err != nil:
			return fmt.Errorf("audit: %w", err)
		}
		var r struct {
			Seq uint64 `json:"seq"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("audit: %s offset %d: not a record: %w", t.f.Name(), t.off, err)
		}
		if r.Seq >= t.from {
			if _, err := t.w.Write(append(line, '\n')); err != nil {
				return err
			}
		}
		t.off += int64(len(line)) + 1
	}
}
