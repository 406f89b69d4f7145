package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// checkpointPrefix starts every checkpoint line; event lines start with
// {"seq":, so the prefix alone tells the two apart.
const checkpointPrefix = `{"type":"checkpoint",`

// checkpoint is a signed record vouching for the chain up to Prev.
type checkpoint struct {
	Type  string    `json:"type"` // always "checkpoint"
	Seq   uint64    `json:"seq"`  // seq of the last event before it
	Time  time.Time `json:"time"`
	KeyID string    `json:"key_id"`
	Sig   []byte    `json:"sig"` // base64 in JSON
	Prev  string    `json:"prev"`
	Hash  string    `json:"hash,omitempty"`
}

// message is what a checkpoint signature covers. It is plain text with a
// version tag so another implementation (or a Vault Transit policy) can
// rebuild it; the key id is not part of it because a signer reports the
// key version only after signing.
func (c *checkpoint) message() []byte {
	return fmt.Appendf(nil, "privacyvault audit checkpoint v1\nseq %d\ntime %s\nchain %s\n",
		c.Seq, c.Time.Format(time.RFC3339Nano), c.Prev)
}

// seal appends the hash member to body, the JSON encoding of a record
// without its hash, and returns the line (without newline) and the hash.
func seal(body []byte) (line []byte, hash string) {
	sum := sha256.Sum256(body)
	hash = hex.EncodeToString(sum[:])
	line = make([]byte, 0, len(body)+len(hash)+11)
	line = append(line, body[:len(body)-1]...)
	line = append(line, `,"hash":"`...)
	line = append(line, hash...)
	line = append(line, `"}`...)
	return line, hash
}

// unseal returns line without its trailing hash member, as seal hashed it.
func unseal(line []byte) []byte {
	i := bytes.LastIndex(line, []byte(`,"hash":"`))
	if i < 0 {
		return line
	}
	return append(line[:i:i], '}')
}

// record is one parsed line of the log.
type record struct {
	line      int   // 1-based line number
	err       error // why the line is not a record; the rest is unset
	ckpt      bool
	ev        Event
	cp        checkpoint
	canonical bool // re-encoding gives the same bytes
	hashOK    bool // canonical and the hash member matches
}

// parseRecord parses one line without its newline.
func parseRecord(line []byte) record {
	var r record
	var v any = &r.ev
	if bytes.HasPrefix(line, []byte(checkpointPrefix)) {
		r.ckpt, v = true, &r.cp
	}
	if err := json.Unmarshal(line, v); err != nil {
		r.err = err
		return r
	}
	if r.seq() == 0 {
		r.err = errors.New("no seq")
		return r
	}
	again, err := json.Marshal(v)
	r.canonical = err == nil && bytes.Equal(again, line)
	if r.canonical {
		sum := sha256.Sum256(unseal(line))
		r.hashOK = hex.EncodeToString(sum[:]) == r.hash()
	}
	return r
}

func (r *record) seq() uint64 {
	if r.ckpt {
		return r.cp.Seq
	}
	return r.ev.Seq
}

func (r *record) prev() string {
	if r.ckpt {
		return r.cp.Prev
	}
	return r.ev.Prev
}

func (r *record) hash() string {
	if r.ckpt {
		return r.cp.Hash
	}
	return r.ev.Hash
}

// String names the record in messages: "event seq 5" or "checkpoint for
// seq 5".
func (r *record) String() string {
	return describe(r.ckpt, r.seq())
}

func describe(ckpt bool, seq uint64) string {
	if ckpt {
		return "checkpoint for seq " + strconv.FormatUint(seq, 10)
	}
	return "event seq " + strconv.FormatUint(seq, 10)
}

// errLineTooLong marks a line longer than maxLine; the reader skips it.
var errLineTooLong = fmt.Errorf("line longer than %d bytes", maxLine)

// lineReader reads newline-terminated lines and counts them.
type lineReader struct {
	br *bufio.Reader
	n  int // lines returned so far
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line without its newline, in a fresh slice.
// complete is false for a last line that has no newline (a torn write or a
// write in progress). It returns io.EOF at the end, and errLineTooLong,
// after skipping the line, for a line longer than maxLine.
func (lr *lineReader) next() (line []byte, complete bool, err error) {
	long := false
	for {
		frag, err := lr.br.ReadSlice('\n')
		if !long && len(line)+len(frag) > maxLine+1 {
			long, line = true, nil
		}
		if !long {
			line = append(line, frag...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(line) == 0 && !long:
			return nil, false, io.EOF
		case err != nil && err != io.EOF:
			return nil, false, err
		}
		lr.n++
		complete = err == nil
		if long {
			return nil, complete, errLineTooLong
		}
		if complete {
			line = line[:len(line)-1]
		}
		return line, complete, nil
	}
}
