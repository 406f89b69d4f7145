package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sealed is one record of a chain kept outside a file (a database): the
// line exactly as audit.log would hold it, so Verify, SubjectReport and
// Tail read a chain's lines as they read the file.
type Sealed struct {
	Line       []byte // the record's JSON, without newline
	Seq        uint64 // event seq, or the seq a checkpoint covers
	Hash       string
	Subject    string // subject fingerprint of an event, or ""
	Checkpoint bool
}

// ChainHead is the position of a chain kept outside a file: its Head and
// the events appended since the last checkpoint.
type ChainHead struct {
	Head
	Since int
}

// Validate reports why ev cannot be appended (ErrInvalidEvent), or nil.
func Validate(ev *Event) error { return validate(ev) }

// SealEvents assigns Seq, Time, Prev and Hash to evs, continuing h, and
// returns their records and the new head. Seq, Time, Prev and Hash in evs
// are overwritten; the events must have passed Validate.
func SealEvents(h ChainHead, evs []Event, now time.Time) ([]Sealed, ChainHead, error) {
	out := make([]Sealed, len(evs))
	for i := range evs {
		ev := &evs[i]
		h.Seq++
		ev.Seq, ev.Time, ev.Prev, ev.Hash = h.Seq, now.UTC(), h.Hash, ""
		// The same bytes as the file log writes (appendEvent matches
		// encoding/json; TestAppendEventMatchesJSON), without reflection.
		line, hash := appendSealed(appendEvent(make([]byte, 0, 512), ev), 0)
		ev.Hash, h.Hash = hash, hash
		out[i] = Sealed{Line: line, Seq: h.Seq, Hash: hash, Subject: ev.Subject}
	}
	h.Since += len(evs)
	h.Checkpoint = false
	return out, h, nil
}

// SealCheckpoint signs the chain up to h with s and returns the
// checkpoint's record and the new head.
func SealCheckpoint(ctx context.Context, s Signer, h ChainHead, now time.Time) (Sealed, ChainHead, error) {
	c := checkpoint{Type: "checkpoint", Seq: h.Seq, Time: now.UTC(), Prev: h.Hash}
	sig, keyID, err := s.Sign(ctx, c.message())
	if err == nil && keyID == "" {
		err = errors.New("signer returned an empty key id")
	}
	if err != nil {
		return Sealed{}, h, fmt.Errorf("audit: checkpoint at seq %d not signed: %w", c.Seq, err)
	}
	c.KeyID, c.Sig = keyID, sig
	body, err := json.Marshal(&c)
	if err != nil {
		return Sealed{}, h, fmt.Errorf("audit: encoding checkpoint: %w", err)
	}
	line, hash := seal(body)
	h.Hash, h.Since, h.Checkpoint, h.CheckpointSeq = hash, 0, true, h.Seq
	return Sealed{Line: line, Seq: h.Seq, Hash: hash, Checkpoint: true}, h, nil
}

// ParseSealed parses a stored record's line (as SealEvents or
// SealCheckpoint made it) and checks its hash.
func ParseSealed(line []byte) (Sealed, error) {
	r := parseRecord(line)
	switch {
	case r.err != nil:
		return Sealed{}, fmt.Errorf("audit: not a record: %w", r.err)
	case !r.hashOK:
		return Sealed{}, fmt.Errorf("audit: %s does not match its hash (edited)", &r)
	}
	return Sealed{Line: line, Seq: r.seq(), Hash: r.hash(), Subject: r.ev.Subject, Checkpoint: r.ckpt}, nil
}
