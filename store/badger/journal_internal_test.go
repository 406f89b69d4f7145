package badger

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

func openLazy(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	s.SyncOnDemand()
	return s
}

// journalSeqs returns the seqs Lines(after) gives, in order, and checks
// each line is the one put (line i is "line-i").
func journalSeqs(t *testing.T, j *Journal, after uint64) []uint64 {
	t.Helper()
	var seqs []uint64
	err := j.Lines(after, func(seq uint64, line []byte) error {
		if want := fmt.Sprintf("line-%d", seq); string(line) != want {
			t.Errorf("Lines: seq %d = %q, want %q", seq, line, want)
		}
		seqs = append(seqs, seq)
		return nil
	})
	if err != nil {
		t.Fatalf("Lines(%d) error = %v", after, err)
	}
	return seqs
}

func putLines(t *testing.T, j *Journal, from, to uint64) {
	t.Helper()
	var lines [][]byte
	for q := from; q <= to; q++ {
		lines = append(lines, fmt.Appendf(nil, "line-%d", q))
	}
	wait, err := j.Put(from, lines)
	if err != nil {
		t.Fatalf("Put(%d..%d) error = %v", from, to, err)
	}
	if err := wait(); err != nil {
		t.Fatalf("Put(%d..%d) wait = %v", from, to, err)
	}
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for q := from; q <= to; q++ {
		out = append(out, q)
	}
	return out
}

// The journal's prefix is no other key's, and the journal and the records
// do not see each other.
func TestJournalKeysDoNotCollide(t *testing.T) {
	for _, p := range []byte{prefixRecord, prefixIndex, prefixMeta, prefixConsent, prefixSubjectKey, prefixSubjectIndex} {
		if p == prefixJournal {
			t.Errorf("prefix %q is both the journal's and another key's", p)
		}
	}
	s := openLazy(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	j := s.Journal()
	putLines(t, j, 1, 3)
	rec := store.Record{Class: "j", ID: []byte{0, 0, 0, 0, 0, 0, 0, 1}, Ciphertext: []byte("sealed"), CreatedAt: time.Now()}
	if _, err := s.Insert(ctx, []store.Record{rec}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta(ctx, "j", []byte("meta")); err != nil {
		t.Fatal(err)
	}
	if got := journalSeqs(t, j, 0); !slices.Equal(got, seqRange(1, 3)) {
		t.Errorf("Lines(0) = %v, want 1..3 only", got)
	}
	recs, err := s.Scan(ctx, "j", nil, 10)
	if err != nil || len(recs) != 1 || !bytes.Equal(recs[0].ID, rec.ID) {
		t.Errorf("Scan(j) = %d records, %v; want the one record", len(recs), err)
	}
}

// Put's wait returns once the lines are in the synced WAL, and that one
// sync also made durable the insert committed before them (lazy syncs).
func TestJournalPutDurableWithEarlierInsert(t *testing.T) {
	dir := t.TempDir()
	s := openLazy(t, dir)
	defer s.Close()
	j := s.Journal()
	rec := store.Record{Class: "c", ID: randomID(t), Ciphertext: []byte("sealed"), CreatedAt: time.Now()}
	_, wait, err := s.InsertStaged(context.Background(), []store.Record{rec})
	if err != nil {
		t.Fatal(err)
	}
	if !j.Shares() {
		t.Errorf("Shares() after an insert nobody waited for = false, want true")
	}
	putLines(t, j, 7, 7)
	// No one waited for the insert: only the put's sync can have made it
	// durable.
	s.dur.mu.Lock()
	synced, started := s.dur.synced, s.dur.started
	s.dur.mu.Unlock()
	if synced < started {
		t.Errorf("after the journal put's sync: %d of %d writes durable, want all (the insert before it too)", synced, started)
	}
	if err := wait(); err != nil {
		t.Fatalf("insert wait = %v", err)
	}
	if j.Shares() {
		t.Errorf("Shares() once everything is synced = true, want false")
	}
	wal, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%05d.mem", s.dur.wal.fid)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(wal, rec.ID) || !bytes.Contains(wal, []byte("line-7")) {
		t.Errorf("synced WAL holds the record: %v, the journal line: %v; want both", bytes.Contains(wal, rec.ID), bytes.Contains(wal, []byte("line-7")))
	}
}

// Lines survive a reopen; Trim removes what it is asked to, in chunks, and
// a full trim lets lower seqs be trimmed later.
func TestJournalLinesAndTrim(t *testing.T) {
	dir := t.TempDir()
	s := openLazy(t, dir)
	j := s.Journal()
	putLines(t, j, 1, 1200)
	putLines(t, j, 1201, 2500)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openLazy(t, dir)
	defer s.Close()
	j = s.Journal()
	if got := journalSeqs(t, j, 0); !slices.Equal(got, seqRange(1, 2500)) {
		t.Fatalf("Lines(0) after reopen = %d lines, want 1..2500", len(got))
	}
	if got := journalSeqs(t, j, 2497); !slices.Equal(got, seqRange(2498, 2500)) {
		t.Errorf("Lines(2497) = %v, want 2498..2500", got)
	}
	if err := j.Trim(2400); err != nil {
		t.Fatal(err)
	}
	if got := journalSeqs(t, j, 0); !slices.Equal(got, seqRange(2401, 2500)) {
		t.Errorf("Lines(0) after Trim(2400) = %d lines from %v, want 2401..2500", len(got), got[:min(1, len(got))])
	}
	if err := j.Trim(math.MaxUint64); err != nil {
		t.Fatal(err)
	}
	if got := journalSeqs(t, j, 0); len(got) != 0 {
		t.Errorf("Lines(0) after Trim(all) = %v, want none", got)
	}
	putLines(t, j, 5, 6)
	if err := j.Trim(5); err != nil {
		t.Fatal(err)
	}
	if got := journalSeqs(t, j, 0); !slices.Equal(got, []uint64{6}) {
		t.Errorf("Lines(0) after a reset, Put(5..6) and Trim(5) = %v, want [6]", got)
	}
}
