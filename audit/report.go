package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Access is one event in a subject report: who touched the subject's data,
// when, how and for what purpose.
type Access struct {
	// Instance names the chain holding the event when the trail has one
	// chain per sidecar (audit.sink postgres); "" for a file log.
	Instance string    `json:"instance,omitempty"`
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Caller   string    `json:"caller"`
	Purpose  string    `json:"purpose,omitempty"`
	Op       Op        `json:"op"`
	Class    string    `json:"class,omitempty"`
	Count    int       `json:"count"`
	Decision Decision  `json:"decision"`
}

// SubjectReport lists, in log order, every event whose subject fingerprint
// is subjectFP (see Fingerprinter.Subject): the detokenizations that
// revealed the person's data, and any other operation on it, denied ones
// included. It trusts the log; run Verify first. It finds a call that
// touched several subjects because the sidecar writes one event per class
// and subject of every call. A torn last line (a write in progress) is ignored.
func SubjectReport(r io.Reader, subjectFP string) ([]Access, error) {
	if !isFingerprint(subjectFP) {
		return nil, fmt.Errorf("audit: %q is not a subject fingerprint", subjectFP)
	}
	var out []Access
	lr := newLineReader(r)
	for {
		line, complete, err := lr.next()
		switch {
		case err == io.EOF || err == nil && !complete:
			return out, nil
		case errors.Is(err, errLineTooLong):
			return nil, fmt.Errorf("audit: line %d: %w", lr.n, err)
		case err != nil:
			return nil, fmt.Errorf("audit: reading line %d: %w", lr.n+1, err)
		}
		// Most lines do not mention the subject: skip them unparsed.
		if bytes.HasPrefix(line, []byte(checkpointPrefix)) || !bytes.Contains(line, []byte(subjectFP)) {
			continue
		}
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, fmt.Errorf("audit: line %d: %w", lr.n, err)
		}
		if ev.Subject == subjectFP {
			out = append(out, Access{
				Seq: ev.Seq, Time: ev.Time, Caller: ev.Caller, Purpose: ev.Purpose,
				Op: ev.Op, Class: ev.Class, Count: ev.Count, Decision: ev.Decision,
			})
		}
	}
}
