// Package audit keeps privacyvault's tamper-evident audit log: one event per
// call that touches PII, never the value or the token, hash-chained,
// durable before Append returns (fsync'd, or put in a Journal while the file
// is fsync'd lazily), with periodic signed checkpoints.
//
// # On-disk format
//
// <dir>/audit.log holds one JSON object per line, in two kinds:
//
//	{"seq":1,"time":"2026-11-27T03:48:32.031022641Z","caller":"spiffe://example.org/billing","purpose":"payment","op":"detokenize","class":"card_number","count":1,"decision":"allow","token_fps":["EjwJgwSiBFh1t0pNYQ"],"subject_fp":"46f328913f7fdef93a70081a96a32031","prev":"","hash":"06c12f71a29f51c280ccbcb9d1a66fab7ccbe9276ec010f14f6a65362ea1ed1f"}
//	{"type":"checkpoint","seq":1,"time":"2026-11-27T03:48:32.032647637Z","key_id":"ed25519:34750f98bd59fcfc","sig":"5Dwfhjndzr3SPcdc+wfKfJe42rBjkVGhWPT8JirzJCZqliTh4C23rdooa/3uq110Q/kvFLdglSNjI8WOTqDuCw==","prev":"06c12f71a29f51c280ccbcb9d1a66fab7ccbe9276ec010f14f6a65362ea1ed1f","hash":"4261c52c0c46ffdf01c587e73a532121c987c8c0afed6f58ee9fd45316de7451"}
//
// An event line is the encoding/json encoding of Event, so its members come
// in the order of Event's fields; a checkpoint line starts with
// {"type":"checkpoint", and its seq is that of the last event before it.
// Every line ends with its "hash" member: the hex SHA-256 of the same line
// with the ,"hash":"…" member removed. "prev" is the hash of the line
// before ("" on the first line), so the lines form one chain through events
// and checkpoints. Token fingerprints are 18 base64url digits; logs
// written before fingerprint version 2 hold 32 hex digits, which verify
// and report alike (see Fingerprinter). A checkpoint's signature covers its seq, time and prev
// (see Signer), so it vouches for the whole chain up to it. Lines are
// canonical: re-encoding a parsed line must give the same bytes, so no
// member can be added, duplicated or re-spelled without detection.
//
// # What Verify detects
//
// Verify reports the first problem as a *VerifyError whose Kind says what
// happened: an edited line (its hash no longer matches, or the next line's
// prev no longer matches when its hash was recomputed), deleted events (a
// gap in seq), an inserted line (dropping it heals the chain, or its seq
// was already used), reordered lines (a seq or a prev that appears later in
// the file), a checkpoint whose signature fails (someone rewrote the chain
// and recomputed every hash), or a line that is not a record at all.
//
// Limits: records after the last checkpoint are only hash-chained, and
// SHA-256 is unkeyed, so truncating the log after its last checkpoint, or
// rewriting or appending events there, cannot be detected from the file
// alone; neither can removing checkpoints together with everything after
// them. Summary.LastCheckpointSeq says how far the signed part reaches;
// compare it (or Summary.LastHash) with an external anchor, such as the
// copy a SIEM keeps through Tail. Deleting a checkpoint line in the middle
// is reported as an edit of the record before it, since the two leave the
// same trace.
package audit

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// FileName is the name of the log file inside the directory given to Open.
const FileName = "audit.log"

// Op names what an event records. Admin operations are "admin." and the
// RPC's operation name (AdminOp builds them).
type Op string

// Ops recorded in Event.Op.
const (
	OpTokenize      Op = "tokenize"
	OpDetokenize    Op = "detokenize"
	OpLookup        Op = "lookup"
	OpAlert         Op = "alert"
	OpConsentSet    Op = "consent.set"
	OpConsentRevoke Op = "consent.revoke"
	OpConsentList   Op = "consent.list"
	OpExport        Op = "subject.export"
	OpRectify       Op = "subject.rectify"
	OpErase         Op = "subject.erase"
	OpDeleteToken   Op = "token.delete"
	OpHealthAudit   Op = "health.audit_writable"
	// OpRecover is the op of the event Open writes after discarding a
	// torn last line, so the discard is itself on the record.
	OpRecover Op = "audit.recover"
)

// AdminOp is the op of the admin operation named name ("rotate" gives
// "admin.rotate").
func AdminOp(name string) Op { return Op("admin." + name) }

// Decision is the outcome an event records.
type Decision string

// Decisions recorded in Event.Decision.
const (
	DecisionAllow   Decision = "allow"
	DecisionDeny    Decision = "deny"
	DecisionPartial Decision = "partial"
	DecisionError   Decision = "error"
)

// Alert names a breach worth a human's attention.
type Alert string

// Alerts recorded in Event.Alert.
const (
	AlertQuota       Alert = "quota"
	AlertHoneytoken  Alert = "honeytoken"
	AlertDeniedBurst Alert = "denied_burst"
)

var (
	// ErrClosed is returned by Append after Close.
	ErrClosed = errors.New("audit: log closed")
	// ErrInvalidEvent is returned by Append for an event it refuses to
	// write; nothing is written.
	ErrInvalidEvent = errors.New("audit: invalid event")
	// ErrTornTail is passed to Options.OnError when Open discards a torn
	// last line.
	ErrTornTail = errors.New("audit: torn last line discarded")
)

// Event is one audited call. It has no field for a token or a value on
// purpose: tokens and subjects appear only as keyed fingerprints (see
// Fingerprinter), so the log can be read by investigators without becoming
// a copy of the vault.
type Event struct {
	Seq      uint64    `json:"seq"`                  // assigned by Append, from 1, contiguous
	Time     time.Time `json:"time"`                 // assigned by Append, UTC
	Caller   string    `json:"caller"`               // authenticated identity
	Purpose  string    `json:"purpose,omitempty"`    // declared purpose of the call
	Op       Op        `json:"op"`                   // one of the Op constants or AdminOp
	Class    string    `json:"class,omitempty"`      // data class
	Count    int       `json:"count"`                // items in the call
	Decision Decision  `json:"decision"`             // one of the Decision constants
	Reason   string    `json:"reason,omitempty"`     // why, for deny, partial and error
	Tokens   []string  `json:"token_fps,omitempty"`  // Fingerprinter.Token of each token
	Subject  string    `json:"subject_fp,omitempty"` // Fingerprinter.Subject of the data subject
	Alert    Alert     `json:"alert,omitempty"`      // one of the Alert constants
	Prev     string    `json:"prev"`                 // assigned by Append: hash of the previous record
	Hash     string    `json:"hash,omitempty"`       // assigned by Append: hash of this record
}

// Limits that keep every line well under maxLine.
const (
	maxField  = 4096
	maxTokens = 50000
	maxLine   = 4 << 20
)

// validate checks what a caller can get wrong. Fingerprint fields must look
// like fingerprints so a raw token passed by mistake is refused, not logged.
func validate(ev *Event) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidEvent, fmt.Sprintf(format, args...))
	}
	switch {
	case ev.Caller == "":
		return bad("caller is empty")
	case ev.Op == "":
		return bad("op is empty")
	case ev.Count < 0:
		return bad("count %d is negative", ev.Count)
	case len(ev.Tokens) > maxTokens:
		return bad("%d token fingerprints, at most %d", len(ev.Tokens), maxTokens)
	}
	switch ev.Decision {
	case DecisionAllow, DecisionDeny, DecisionPartial, DecisionError:
	default:
		return bad("decision %q is not allow, deny, partial or error", ev.Decision)
	}
	for _, f := range [...]struct{ name, s string }{
		{"caller", ev.Caller}, {"purpose", ev.Purpose}, {"op", string(ev.Op)},
		{"class", ev.Class}, {"reason", ev.Reason}, {"alert", string(ev.Alert)},
	} {
		if len(f.s) > maxField || !utf8.ValidString(f.s) {
			return bad("%s is not valid UTF-8 of at most %d bytes", f.name, maxField)
		}
	}
	if ev.Subject != "" && !isFingerprint(ev.Subject) {
		return bad("subject_fp is not a fingerprint")
	}
	for _, fp := range ev.Tokens {
		if !isTokenFingerprint(fp) {
			return bad("token_fps holds something that is not a fingerprint")
		}
	}
	return nil
}
