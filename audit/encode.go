package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// appendEvent appends the encoding/json encoding of ev, without its hash
// member, to buf. It writes the same bytes as json.Marshal (lines must stay
// canonical: Verify re-encodes them with encoding/json), without reflection
// and without allocating; TestAppendEventMatchesJSON holds it to that.
func appendEvent(buf []byte, ev *Event) []byte {
	buf = append(buf, `{"seq":`...)
	buf = strconv.AppendUint(buf, ev.Seq, 10)
	buf = append(buf, `,"time":`...)
	buf = appendTime(buf, ev.Time)
	buf = append(buf, `,"caller":`...)
	buf = appendString(buf, ev.Caller)
	if ev.Purpose != "" {
		buf = append(buf, `,"purpose":`...)
		buf = appendString(buf, ev.Purpose)
	}
	buf = append(buf, `,"op":`...)
	buf = appendString(buf, string(ev.Op))
	if ev.Class != "" {
		buf = append(buf, `,"class":`...)
		buf = appendString(buf, ev.Class)
	}
	buf = append(buf, `,"count":`...)
	buf = strconv.AppendInt(buf, int64(ev.Count), 10)
	buf = append(buf, `,"decision":`...)
	buf = appendString(buf, string(ev.Decision))
	if ev.Reason != "" {
		buf = append(buf, `,"reason":`...)
		buf = appendString(buf, ev.Reason)
	}
	if len(ev.Tokens) > 0 {
		buf = append(buf, `,"token_fps":[`...)
		for i, fp := range ev.Tokens {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, fp)
		}
		buf = append(buf, ']')
	}
	if ev.Subject != "" {
		buf = append(buf, `,"subject_fp":`...)
		buf = appendString(buf, ev.Subject)
	}
	if ev.Alert != "" {
		buf = append(buf, `,"alert":`...)
		buf = appendString(buf, string(ev.Alert))
	}
	buf = append(buf, `,"prev":`...)
	buf = appendString(buf, ev.Prev)
	if ev.Hash != "" {
		buf = append(buf, `,"hash":`...)
		buf = appendString(buf, ev.Hash)
	}
	return append(buf, '}')
}

// appendTime appends t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds, quoted). Append only writes times from time.Now, well inside
// the years MarshalJSON accepts.
func appendTime(buf []byte, t time.Time) []byte {
	buf = append(buf, '"')
	buf = t.AppendFormat(buf, time.RFC3339Nano)
	return append(buf, '"')
}

// appendString appends s as a JSON string. Printable ASCII other than the
// characters encoding/json escapes (the quote, the backslash and its HTML
// escapes <, > and &) is copied; anything else — rare in an event: control
// characters, non-ASCII text in a reason — goes through encoding/json, so
// its escaping rules need no copy here.
func appendString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plain[s[i]] {
			b, err := json.Marshal(s)
			if err != nil { // a string always encodes
				panic(err)
			}
			return append(buf, b...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// plain marks the bytes appendString copies as they are: printable ASCII
// but the quote, the backslash, <, > and &. One lookup a byte: a batch's
// event spells a fingerprint per token, most of its line.
var plain = func() (t [256]bool) {
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = !strings.ContainsRune(`"\<>&`, rune(c))
	}
	return t
}()

// appendSealed appends the line of a record whose hashless encoding is
// body (buf[start:], as appendEvent left it): body with the "hash" member
// added before its closing brace, as seal does. It returns the hash.
func appendSealed(buf []byte, start int) ([]byte, string) {
	sum := sha256.Sum256(buf[start:])
	buf = append(buf[:len(buf)-1], `,"hash":"`...)
	at := len(buf)
	buf = hex.AppendEncode(buf, sum[:])
	hash := string(buf[at:])
	return append(buf, `"}`...), hash
}
