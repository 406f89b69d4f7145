package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// IdentityAccess is what one identity revealed of one subject's class for
// one purpose within a report window.
type IdentityAccess struct {
	Subject string `json:"subject_fp"` // "" for values with no subject, or a call that mixed subjects
	// SubjectID is filled by callers that know the id behind Subject.
	SubjectID string    `json:"subject_id,omitempty"`
	Class     string    `json:"class"`
	Purpose   string    `json:"purpose"`
	Values    int       `json:"values"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
}

// IdentityReport is the breach-assessment summary of one identity's
// accesses in a window (GDPR Art. 33-34): which subjects' data, and how
// many values of which classes, it revealed.
type IdentityReport struct {
	Rows []IdentityAccess `json:"rows"`
	// Events counts every event of the identity in the window.
	Events int `json:"events"`
	// Values counts values revealed over all rows.
	Values int `json:"values"`
	// Denied counts refused calls (deny or error decisions).
	Denied int `json:"denied"`
}

// revealOps are the operations that hand values to the caller.
var revealOps = map[Op]bool{OpDetokenize: true, OpExport: true}

// ReportIdentity summarises, from a log, the events of identity with
// since <= time < until (a zero until means no end). A partial call
// counts all its items as revealed: the log does not say which items
// failed, and a breach assessment must not undercount. It trusts the
// log; run Verify first.
func ReportIdentity(r io.Reader, identity string, since, until time.Time) (IdentityReport, error) {
	out := IdentityReport{Rows: []IdentityAccess{}}
	index := map[[3]string]int{}
	quoted, _ := json.Marshal(identity)
	needle := append([]byte(`"caller":`), quoted...)
	lr := newLineReader(r)
	for {
		line, complete, err := lr.next()
		switch {
		case err == io.EOF || err == nil && !complete:
			return out, nil
		case errors.Is(err, errLineTooLong):
			return IdentityReport{}, fmt.Errorf("audit: line %d: %w", lr.n, err)
		case err != nil:
			return IdentityReport{}, fmt.Errorf("audit: reading line %d: %w", lr.n+1, err)
		}
		// Most lines are other callers': skip them unparsed.
		if bytes.HasPrefix(line, []byte(checkpointPrefix)) || !bytes.Contains(line, needle) {
			continue
		}
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return IdentityReport{}, fmt.Errorf("audit: line %d: %w", lr.n, err)
		}
		if ev.Caller != identity || ev.Time.Before(since) || (!until.IsZero() && !ev.Time.Before(until)) {
			continue
		}
		out.Events++
		switch {
		case ev.Decision == DecisionDeny || ev.Decision == DecisionError:
			out.Denied++
			continue
		case !revealOps[ev.Op]:
			continue
		}
		k := [3]string{ev.Subject, ev.Class, ev.Purpose}
		i, ok := index[k]
		if !ok {
			i = len(out.Rows)
			index[k] = i
			out.Rows = append(out.Rows, IdentityAccess{Subject: ev.Subject, Class: ev.Class, Purpose: ev.Purpose, First: ev.Time})
		}
		out.Rows[i].Values += ev.Count
		out.Rows[i].Last = ev.Time
		out.Values += ev.Count
	}
}
