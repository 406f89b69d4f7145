package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendEventMatchesJSON holds the hand-written encoder to the bytes of
// encoding/json, which Verify uses to check that lines are canonical.
func TestAppendEventMatchesJSON(t *testing.T) {
	fp := "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		ev   Event
	}{
		{"minimal", Event{Seq: 1, Time: time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC), Caller: "c", Op: OpTokenize, Decision: DecisionAllow}},
		{"every field", Event{Seq: 1 << 40, Time: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC),
			Caller: "spiffe://example.org/billing", Purpose: "payment", Op: OpDetokenize, Class: "card_number",
			Count: 3, Decision: DecisionPartial, Reason: "quota", Tokens: []string{fp, fp}, Subject: fp,
			Alert: AlertQuota, Prev: "ab", Hash: "cd"}},
		{"empty token list", Event{Seq: 2, Caller: "c", Op: OpLookup, Decision: DecisionDeny, Tokens: []string{}}},
		{"negative count", Event{Seq: 3, Caller: "c", Op: OpLookup, Decision: DecisionError, Count: -7}},
		{"escapes", Event{Seq: 4, Caller: "a\"b\\c", Op: "x<y>&z", Decision: DecisionError,
			Reason: "tab\tnl\ncr\rbs\bff\f\x00\x1f\x7f é \u2028\u2029 \xff\xfe bad utf-8"}},
		{"local time zone", Event{Seq: 5, Time: time.Date(2026, 6, 1, 0, 0, 0, 1000, time.FixedZone("x", 3600)), Caller: "c", Op: OpTokenize, Decision: DecisionAllow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkEncoding(t, &tt.ev)
		})
	}
}

func TestAppendEventMatchesJSONRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aZ09 \"\\<>&\t\n\x00\x7fé€\u2028\U0001F600")
	str := func() string {
		var b []byte
		for range r.IntN(12) {
			if r.IntN(20) == 0 {
				b = append(b, byte(0x80+r.IntN(0x80))) // invalid UTF-8
				continue
			}
			b = append(b, string(alphabet[r.IntN(len(alphabet))])...)
		}
		return string(b)
	}
	for i := range 2000 {
		ev := Event{Seq: r.Uint64(), Time: time.Unix(0, r.Int64N(1<<62)).UTC(), Caller: str(), Purpose: str(),
			Op: Op(str()), Class: str(), Count: r.IntN(1 << 20), Decision: Decision(str()), Reason: str(),
			Subject: str(), Alert: Alert(str()), Prev: str(), Hash: str()}
		for range r.IntN(3) {
			ev.Tokens = append(ev.Tokens, str())
		}
		if !checkEncoding(t, &ev) {
			t.Fatalf("event %d differs", i)
		}
	}
}

func checkEncoding(t *testing.T, ev *Event) bool {
	t.Helper()
	want, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	got := appendEvent([]byte("prefix"), ev)
	if !bytes.Equal(got[len("prefix"):], want) {
		t.Errorf("appendEvent(%+v) =\n%s\nwant\n%s", ev, got[len("prefix"):], want)
		return false
	}
	ev.Hash = ""
	body := appendEvent(nil, ev)
	line, hash := appendSealed(append([]byte("xy"), body...), 2)
	wantLine, wantHash := seal(body)
	if !bytes.Equal(line[2:], wantLine) || hash != wantHash {
		t.Errorf("appendSealed(%s) = %s, %s, want %s, %s", body, line[2:], hash, wantLine, wantHash)
		return false
	}
	return true
}

func BenchmarkEncodeEvent(b *testing.B) {
	fp := "0123456789abcdef0123456789abcdef"
	ev := Event{Seq: 12345, Time: time.Now().UTC(), Caller: "spiffe://example.org/billing", Op: OpTokenize,
		Class: "email", Count: 1, Decision: DecisionAllow, Tokens: []string{fp}, Prev: fp + fp}
	b.Run("encoding/json+seal", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			body, _ := json.Marshal(&ev)
			line, _ := seal(body)
			buf = append(append(buf[:0], line...), '\n')
		}
	})
	b.Run("appendEvent+appendSealed", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = appendEvent(buf[:0], &ev)
			buf, _ = appendSealed(buf, 0)
			buf = append(buf, '\n')
		}
	})
	// The event of a batch of 1,000: one token fingerprint each.
	batch := ev
	batch.Count, batch.Tokens = 1000, make([]string, 1000)
	for i := range batch.Tokens {
		batch.Tokens[i] = fmt.Sprintf("AbCdEfGhIj%07dQ", i) // the shape of a token fingerprint
	}
	b.Run("batch/appendEvent+appendSealed", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = appendEvent(buf[:0], &batch)
			buf, _ = appendSealed(buf, 0)
			buf = append(buf, '\n')
		}
	})
}

// TestSealEventsMatchesJSON: chains kept outside a file (audit/pgsink) seal
// the same lines encoding/json would, each linked to the one before.
func TestSealEventsMatchesJSON(t *testing.T) {
	evs := []Event{
		{Caller: "c", Op: OpTokenize, Decision: DecisionAllow, Class: "email", Count: 2, Tokens: []string{"a", "b"}},
		{Caller: "d", Op: OpDetokenize, Decision: DecisionDeny, Purpose: "payment", Reason: "quote \" and \\"},
	}
	now := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	sealed, head, err := SealEvents(ChainHead{Head: Head{Seq: 41, Hash: "prev"}}, evs, now)
	if err != nil {
		t.Fatalf("SealEvents() error = %v", err)
	}
	prev := "prev"
	for i := range evs {
		ev := evs[i]
		if ev.Prev != prev || ev.Seq != uint64(42+i) {
			t.Errorf("event %d: Prev, Seq = %q, %d, want %q, %d", i, ev.Prev, ev.Seq, prev, 42+i)
		}
		ev.Hash = ""
		body, err := json.Marshal(&ev)
		if err != nil {
			t.Fatal(err)
		}
		want, hash := seal(body)
		if !bytes.Equal(sealed[i].Line, want) || sealed[i].Hash != hash {
			t.Errorf("SealEvents line %d = %s, want %s", i, sealed[i].Line, want)
		}
		prev = hash
	}
	if head.Seq != 43 || head.Hash != prev {
		t.Errorf("SealEvents head = %d %q, want 43 %q", head.Seq, head.Hash, prev)
	}
}

// Every single byte, in a string alone or between plain letters, is
// encoded as encoding/json encodes it (appendString's table).
func TestAppendStringEveryByte(t *testing.T) {
	for c := range 256 {
		for _, s := range []string{string([]byte{byte(c)}), "a" + string([]byte{byte(c)}) + "b"} {
			want, _ := json.Marshal(s)
			if got := appendString(nil, s); !bytes.Equal(got, want) {
				t.Errorf("appendString(%q) = %s, want %s", s, got, want)
			}
		}
	}
}
