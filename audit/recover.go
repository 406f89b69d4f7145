package audit

import (
	"bytes"
	"fmt"
	"os"
)

// recoverTail reads the end of the file to continue the chain: the last seq,
// the last hash, and whether a checkpoint is due. It truncates a torn last
// line and returns an error wrapping ErrTornTail describing it.
func (l *Log) recoverTail() (torn error, err error) {
	st, err := l.f.Stat()
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	size := st.Size()
	end, err := lastNewline(l.f, size)
	if err != nil {
		return nil, fmt.Errorf("audit: reading %s: %w", l.path, err)
	}
	if end+1 < size {
		// No newline at the end: the last write was cut short. Its Append
		// never returned success, so dropping it loses no promised event.
		if err := l.f.Truncate(end + 1); err != nil {
			return nil, fmt.Errorf("audit: truncating torn line: %w", err)
		}
		if err := l.f.Sync(); err != nil {
			return nil, fmt.Errorf("audit: truncating torn line: %w", err)
		}
		torn = fmt.Errorf("%w: %d bytes at offset %d of %s had no trailing newline",
			ErrTornTail, size-(end+1), end+1, l.path)
	}
	if end < 0 {
		return torn, nil // empty, or a single torn line: a new chain
	}
	start, err := lastNewline(l.f, end)
	if err != nil {
		return nil, fmt.Errorf("audit: reading %s: %w", l.path, err)
	}
	start++
	if end-start > maxLine {
		return nil, fmt.Errorf("audit: last line of %s (offset %d) is longer than %d bytes; run audit verify", l.path, start, maxLine)
	}
	line := make([]byte, end-start)
	if _, err := l.f.ReadAt(line, start); err != nil {
		return nil, fmt.Errorf("audit: reading %s: %w", l.path, err)
	}
	r := parseRecord(line)
	if r.err != nil || !r.hashOK {
		return nil, fmt.Errorf("audit: last record of %s (offset %d) is corrupt, refusing to extend it; run audit verify", l.path, start)
	}
	l.seq, l.last = r.seq(), r.hash()
	if !r.ckpt {
		l.since = l.every // the previous process ended without a checkpoint
		l.tailEvent = r.hash()
	}
	return torn, nil
}

// lastNewline returns the offset of the last '\n' in f before limit, or -1.
func lastNewline(f *os.File, limit int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for off := limit; off > 0; {
		n := min(int64(len(buf)), off)
		off -= n
		if _, err := f.ReadAt(buf[:n], off); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return off + int64(i), nil
		}
	}
	return -1, nil
}
