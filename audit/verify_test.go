package audit_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
)

// writtenLog returns the lines of a log of 12 events with a checkpoint
// every 5, closed:
//
//	lines 1-5 events 1-5, 6 checkpoint 5, 7-11 events 6-10,
//	12 checkpoint 10, 13-14 events 11-12, 15 checkpoint 12.
func writtenLog(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{CheckpointEvery: 5})
	appendN(t, l, 1, 12)
	closeLog(t, l)
	lines := readLines(t, dir)
	if len(lines) != 15 {
		t.Fatalf("log has %d lines, want 15", len(lines))
	}
	return lines
}

// Line numbers below are 1-based like Verify's; slice indexes are one less.
func del(l []string, lines ...int) []string {
	for _, n := range slices.Backward(lines) {
		l = slices.Delete(l, n-1, n)
	}
	return l
}

func insert(l []string, at int, line string) []string { return slices.Insert(l, at-1, line) }

func swap(l []string, a, b int) []string {
	l[a-1], l[b-1] = l[b-1], l[a-1]
	return l
}

// forged is event 4 (line 4) with another caller: it keeps event 3's hash
// as prev, so with rehash it is a record that chains correctly.
func forged(l []string) string {
	return strings.Replace(l[3], `"caller":"svc-4"`, `"caller":"mallory"`, 1)
}

func TestVerifyTamper(t *testing.T) {
	orig := writtenLog(t)
	tests := []struct {
		name   string
		tamper func(l []string) []string
		want   verdict
	}{
		{"untouched", func(l []string) []string { return l }, verdict{}},
		{"edit a field", func(l []string) []string {
			l[2] = strings.Replace(l[2], `"caller":"svc-3"`, `"caller":"mallory"`, 1)
			return l
		}, verdict{audit.KindEdited, 3, 3}},
		{"edit a field and recompute the hash", func(l []string) []string {
			l[2] = rehash(strings.Replace(l[2], `"caller":"svc-3"`, `"caller":"mallory"`, 1))
			return l
		}, verdict{audit.KindEdited, 3, 3}},
		{"edit the event before a checkpoint and recompute the hash", func(l []string) []string {
			l[4] = rehash(strings.Replace(l[4], `"decision":"allow"`, `"decision":"deny"`, 1))
			return l
		}, verdict{audit.KindEdited, 5, 5}},
		{"edit the seq", func(l []string) []string {
			l[2] = strings.Replace(l[2], `"seq":3,`, `"seq":4,`, 1)
			return l
		}, verdict{audit.KindEdited, 3, 4}},
		{"add a member", func(l []string) []string {
			l[2] = strings.Replace(l[2], `"count":1,`, `"count":1,"value":"x",`, 1)
			return l
		}, verdict{audit.KindEdited, 3, 3}},
		{"delete a middle event", func(l []string) []string { return del(l, 3) }, verdict{audit.KindDeleted, 3, 3}},
		{"delete two events", func(l []string) []string { return del(l, 3, 4) }, verdict{audit.KindDeleted, 3, 3}},
		{"delete the first event", func(l []string) []string { return del(l, 1) }, verdict{audit.KindDeleted, 1, 1}},
		{"delete the last event before a checkpoint", func(l []string) []string { return del(l, 5) }, verdict{audit.KindDeleted, 5, 5}},
		{"delete a checkpoint (same trace as an edit)", func(l []string) []string { return del(l, 6) }, verdict{audit.KindEdited, 5, 5}},
		{"insert a forged event with a valid hash", func(l []string) []string {
			return insert(l, 4, rehash(forged(l)))
		}, verdict{audit.KindInserted, 4, 4}},
		{"insert a forged event without fixing its hash", func(l []string) []string {
			return insert(l, 4, forged(l))
		}, verdict{audit.KindInserted, 4, 4}},
		{"insert a forged event with a new seq", func(l []string) []string {
			return insert(l, 4, rehash(strings.Replace(forged(l), `"seq":4,`, `"seq":99,`, 1)))
		}, verdict{audit.KindInserted, 4, 99}},
		{"insert a forged first event", func(l []string) []string {
			return insert(l, 1, rehash(strings.Replace(l[0], `"caller":"svc-1"`, `"caller":"mallory"`, 1)))
		}, verdict{audit.KindInserted, 1, 1}},
		{"duplicate an event", func(l []string) []string { return insert(l, 4, l[2]) }, verdict{audit.KindInserted, 4, 3}},
		{"replay an event at the end", func(l []string) []string { return append(l, l[1]) }, verdict{audit.KindInserted, 16, 2}},
		{"swap two events", func(l []string) []string { return swap(l, 3, 4) }, verdict{audit.KindReordered, 4, 3}},
		{"swap two events apart", func(l []string) []string { return swap(l, 2, 4) }, verdict{audit.KindReordered, 4, 2}},
		{"move an event later", func(l []string) []string {
			moved := l[1]
			return insert(del(l, 2), 4, moved)
		}, verdict{audit.KindReordered, 4, 2}},
		{"swap a checkpoint and the event after it", func(l []string) []string { return swap(l, 6, 7) }, verdict{audit.KindReordered, 7, 5}},
		{"flip one byte of a checkpoint signature", func(l []string) []string {
			sig, _ := base64.StdEncoding.DecodeString(field(l[5], "sig"))
			sig[10] ^= 0x01
			l[5] = setField(l[5], "sig", base64.StdEncoding.EncodeToString(sig))
			return l
		}, verdict{audit.KindBadCheckpoint, 6, 5}},
		{"rewrite the whole chain after an edit", func(l []string) []string {
			l[7] = strings.Replace(l[7], `"caller":"svc-7"`, `"caller":"mallory"`, 1)
			for i := 7; i < len(l); i++ {
				l[i] = rehash(setField(l[i], "prev", field(l[i-1], "hash")))
			}
			return l
		}, verdict{audit.KindBadCheckpoint, 12, 10}},
		{"replace a line with garbage", func(l []string) []string {
			l[6] = "not json\n"
			return l
		}, verdict{audit.KindMalformed, 7, 0}},
		{"tear the last line", func(l []string) []string {
			l[14] = l[14][:40]
			return l
		}, verdict{audit.KindMalformed, 15, 0}},
	}
	for _, tt := range tests {
		_, err := verifyFile(t, tt.tamper(slices.Clone(orig)), testSigner(1))
		if got := verdictOf(err); got != tt.want {
			t.Errorf("Verify(%s) = %+v (%v), want %+v", tt.name, got, err, tt.want)
		}
	}
}

// Truncation after the last checkpoint passes: only the summary shows how
// much of the log is signed.
func TestVerifySummary(t *testing.T) {
	orig := writtenLog(t)
	tests := []struct {
		name  string
		lines int // lines kept
		want  audit.Summary
	}{
		{"whole log", 15, audit.Summary{Events: 12, Checkpoints: 3, LastSeq: 12, LastCheckpointSeq: 12}},
		{"last checkpoint cut", 14, audit.Summary{Events: 12, Checkpoints: 2, LastSeq: 12, LastCheckpointSeq: 10}},
		{"cut back to a checkpoint", 12, audit.Summary{Events: 10, Checkpoints: 2, LastSeq: 10, LastCheckpointSeq: 10}},
		{"empty", 0, audit.Summary{}},
	}
	for _, tt := range tests {
		kept := orig[:tt.lines]
		got, err := verifyFile(t, kept, testSigner(1))
		tt.want.LastHash = field(strings.Join(kept[len(kept)-min(1, len(kept)):], ""), "hash")
		if got != tt.want || err != nil {
			t.Errorf("Verify(%s) = %+v, %v; want %+v, nil", tt.name, got, err, tt.want)
		}
	}
}

func TestVerifyWrongKey(t *testing.T) {
	lines := writtenLog(t)
	tests := []struct {
		name string
		v    audit.Verifier
		want verdict
	}{
		{"signing key", testSigner(1), verdict{}},
		{"public key only", audit.NewEd25519Verifier(testSigner(1).Public()), verdict{}},
		{"other key", testSigner(2), verdict{audit.KindBadCheckpoint, 6, 5}},
		{"no verifier", nil, verdict{audit.KindBadCheckpoint, 6, 5}},
	}
	for _, tt := range tests {
		_, err := verifyFile(t, lines, tt.v)
		if got := verdictOf(err); got != tt.want {
			t.Errorf("Verify(%s) = %+v (%v), want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestVerifyErrorMessage(t *testing.T) {
	lines := writtenLog(t)
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"delete", del(slices.Clone(lines), 3), "audit: line 3: event seq 3 missing after seq 2 (deleted)"},
		{"swap", swap(slices.Clone(lines), 3, 4), "audit: line 4: event seq 3 appears after seq 4 (reordered)"},
		{"edit", append(slices.Clone(lines[:2]), strings.Replace(lines[2], "svc-3", "x", 1)), "audit: line 3: event seq 3 was edited (hash mismatch)"},
	}
	for _, tt := range tests {
		_, err := verifyFile(t, tt.lines, testSigner(1))
		if got := errString(err); got != tt.want {
			t.Errorf("Verify(%s) error = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
