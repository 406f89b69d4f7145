package badger

import (
	"bytes"
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// TestKeyFilterNoFalseNegatives: every key added is held, across several
// layers, and most absent keys are not (else the filter saves nothing and
// this test would pass for a filter that always says "maybe").
func TestKeyFilterNoFalseNegatives(t *testing.T) {
	f := newKeyFilter(0)
	f.ready = true
	const n = filterFirstKeys + filterFirstKeys*filterGrowth + 1000 // three layers
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = recordKey("rnd", randomBytes(16))
		f.add(keys[i])
	}
	if got := len(f.layers); got != 3 {
		t.Errorf("layers after %d keys = %d, want 3", n, got)
	}
	for i, k := range keys {
		if !f.mayHold(k) {
			t.Fatalf("mayHold(key %d added) = false, want true", i)
		}
	}
	const absent = 100_000
	fp := 0
	for range absent {
		if f.mayHold(recordKey("rnd", randomBytes(16))) {
			fp++
		}
	}
	// Two full layers at 16 bits a key answer about 0.15% (12 bits: 0.6%).
	if rate := float64(fp) / absent; rate > 0.004 {
		t.Errorf("false positive rate = %.4f, want at most 0.004", rate)
	}
}

// TestKeyFilterNotReady: until the scan at open is done, every key may be
// held.
func TestKeyFilterNotReady(t *testing.T) {
	f := newKeyFilter(0)
	if !f.mayHold(recordKey("rnd", randomBytes(16))) {
		t.Errorf("mayHold(absent key) before ready = false, want true")
	}
}

// writeThroughEveryPath stores records through every write path that
// adds record or index keys, and returns the keys that must be held.
func writeThroughEveryPath(t *testing.T, s *Store) [][]byte {
	t.Helper()
	ctx := context.Background()
	var keys [][]byte
	rnd := rec("rnd", nil, nil)
	det := rec("det", randomBytes(32), nil)
	subj := rec("det", randomBytes(32), []byte("subject-1"))
	out, err := s.Insert(ctx, []store.Record{rnd, det, subj})
	if err != nil {
		t.Fatalf("Insert() error = %v", err)
	}
	for i, o := range out {
		if o.Status != store.Inserted {
			t.Fatalf("Insert()[%d] = %v, want inserted", i, o.Status)
		}
	}
	// (det's index is not kept: Rectify below deletes it.)
	keys = append(keys, recordKey(rnd.Class, rnd.ID), recordKey(det.Class, det.ID),
		recordKey(subj.Class, subj.ID), indexKey(subj.Class, subj.Index))
	// Replace (re-encryption): same record, new ciphertext.
	re := rnd
	re.KeyVersion, re.Ciphertext = 2, randomBytes(58)
	if err := s.Replace(ctx, rnd, re); err != nil {
		t.Fatalf("Replace() error = %v", err)
	}
	// Rectify: a deterministic record gets a new value's index.
	fixed := det
	fixed.Index, fixed.Ciphertext = randomBytes(32), randomBytes(58)
	if err := s.Rectify(ctx, det, fixed); err != nil {
		t.Fatalf("Rectify() error = %v", err)
	}
	keys = append(keys, indexKey(fixed.Class, fixed.Index))
	// Many inserts from concurrent callers: several groups and layers.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				recs := make([]store.Record, 1000)
				for i := range recs {
					recs[i] = rec("det", randomBytes(32), nil)
				}
				if _, err := s.Insert(ctx, recs); err != nil {
					t.Errorf("Insert(1000) error = %v", err)
					return
				}
				mu.Lock()
				for _, r := range recs {
					keys = append(keys, recordKey(r.Class, r.ID), indexKey(r.Class, r.Index))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return keys
}

func rec(class string, index, subject []byte) store.Record {
	return store.Record{Class: class, ID: randomBytes(16), KeyVersion: 1, Ciphertext: randomBytes(58),
		CreatedAt: time.Unix(1_700_000_000, 0), Index: index, Subject: subject}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// checkHeld fails unless the ready filter holds every key, and fails if
// it also holds most absent ones.
func checkHeld(t *testing.T, s *Store, keys [][]byte, when string) {
	t.Helper()
	<-s.fillDone
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if !s.filter.ready {
		t.Fatalf("%s: filter not ready after the scan", when)
	}
	for i, k := range keys {
		if k[0] == prefixRecord {
			k = recordFilterKey(k)
		}
		if !s.filter.mayHold(k) {
			t.Fatalf("%s: mayHold(stored key %d, %x) = false, want true", when, i, k[:1])
		}
	}
	fp := 0
	for range 1000 {
		if s.filter.mayHold(recordFilterKey(recordKey("rnd", randomBytes(16)))) {
			fp++
		}
	}
	if fp > 100 {
		t.Errorf("%s: mayHold(absent key) = true for %d of 1000, want few", when, fp)
	}
}

// TestFilterHoldsEveryWrittenKey: keys written through every write path
// are held by the filter, and after a reopen, by the filter the scan at
// open rebuilt.
func TestFilterHoldsEveryWrittenKey(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir)
	keys := writeThroughEveryPath(t, s)
	checkHeld(t, s, keys, "written")
	s = reopen(t, s, dir)
	defer s.Close()
	checkHeld(t, s, keys, "reopened")
}

// TestFilterHoldsKeysWrittenDuringScan: inserts that race the scan at
// open (several chunks of stored keys) are held once it is done, as are
// the keys stored before.
func TestFilterHoldsKeysWrittenDuringScan(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir)
	ctx := context.Background()
	var keys [][]byte
	for range 3 * fillChunk / 1000 {
		recs := make([]store.Record, 1000)
		for i := range recs {
			recs[i] = rec("rnd", nil, nil)
			keys = append(keys, recordKey(recs[i].Class, recs[i].ID))
		}
		if _, err := s.Insert(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	s = reopen(t, s, dir)
	defer s.Close()
	for range 20 {
		r := rec("det", randomBytes(32), nil)
		if _, err := s.Insert(ctx, []store.Record{r}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, recordKey(r.Class, r.ID), indexKey(r.Class, r.Index))
	}
	checkHeld(t, s, keys, "after the scan")
}

// TestFilteredInsertsStillCollide: with the filter ready — filled by
// inserts, and rebuilt by the scan at open — a stored identifier is a
// collision and a stored deterministic index is existing, in a later
// group and within one group.
func TestFilteredInsertsStillCollide(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir)
	ctx := context.Background()
	stored := rec("det", randomBytes(32), nil)
	if _, err := s.Insert(ctx, []store.Record{stored}); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		<-s.fillDone
		sameID := rec("rnd", nil, nil)
		sameID.Class, sameID.ID = stored.Class, bytes.Clone(stored.ID)
		sameIndex := rec("det", bytes.Clone(stored.Index), nil)
		fresh := rec("det", randomBytes(32), nil)
		twin := rec("det", bytes.Clone(fresh.Index), nil) // same group, same index
		idTwin := rec("rnd", nil, nil)
		idTwin.ID = bytes.Clone(fresh.ID)
		idTwin.Class = fresh.Class
		out, err := s.Insert(ctx, []store.Record{sameID, sameIndex, fresh, twin, idTwin})
		if err != nil {
			t.Fatalf("%s: Insert() error = %v", when, err)
		}
		want := []store.Outcome{{Status: store.Collision}, {Status: store.Existing, ID: stored.ID},
			{Status: store.Inserted, ID: fresh.ID}, {Status: store.Existing, ID: fresh.ID}, {Status: store.Collision}}
		for i := range want {
			if out[i].Status != want[i].Status || !bytes.Equal(out[i].ID, want[i].ID) {
				t.Errorf("%s: Insert()[%d] = %v %x, want %v %x", when, i, out[i].Status, out[i].ID, want[i].Status, want[i].ID)
			}
		}
	}
	check("filled by inserts")
	s = reopen(t, s, dir)
	defer s.Close()
	check("rebuilt at open")
}

// TestOneStorePerDir: Badger's directory lock keeps a second store (in
// this process or another) from writing keys behind the filter's back.
func TestOneStorePerDir(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir)
	defer s.Close()
	if s2, err := Open(Options{Dir: dir}); err == nil {
		s2.Close()
		t.Fatalf("Open(%s) while open = nil error, want the directory lock's", dir)
	}
}

// BenchmarkKeyFilter: the filter's cost per insert check at 1,000,000
// keys.
func BenchmarkKeyFilter(b *testing.B) {
	f := newKeyFilter(0)
	f.ready = true
	for range 1_000_000 {
		f.add(recordKey("rnd", randomBytes(16)))
	}
	probes := make([][]byte, 1024)
	for i := range probes {
		probes[i] = recordKey("rnd", randomBytes(16))
	}
	b.ReportMetric(float64(f.bytes())/(1<<20), "MiB")
	b.ResetTimer()
	for i := range b.N {
		f.mayHold(probes[i%len(probes)])
	}
}

// BenchmarkOpenFilter: the key filter's scan at open of a store holding
// -load.pre random records (and a tenth as many deterministic ones):
// the time from Open until the filter answers, and the filter's size.
func BenchmarkOpenFilter(b *testing.B) {
	dir := preparedStore(b)
	b.ResetTimer()
	for range b.N {
		s, err := Open(Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		<-s.fillDone
		b.StopTimer()
		s.wmu.Lock()
		ready, size := s.filter.ready, s.filter.bytes()
		s.wmu.Unlock()
		if !ready {
			b.Fatal("filter not ready after the scan")
		}
		b.ReportMetric(float64(size)/(1<<20), "filter-MiB")
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// TestKeyFilterSizedAtOpen: a filter sized for the keys a store holds
// takes them in one layer (one cache line per check).
func TestKeyFilterSizedAtOpen(t *testing.T) {
	const n = 3 * filterFirstKeys
	f := newKeyFilter(n)
	for range n {
		f.add(recordKey("rnd", randomBytes(16)))
	}
	if got := len(f.layers); got != 1 {
		t.Errorf("layers after %d keys into newKeyFilter(%d) = %d, want 1", n, n, got)
	}
	f.add(recordKey("rnd", randomBytes(16)))
	if got := len(f.layers); got != 2 {
		t.Errorf("layers after %d keys into newKeyFilter(%d) = %d, want 2", n+1, n, got)
	}
}

// TestFilterAfterDelete: a deleted record's keys stay in the filter (a
// stale "maybe"), and the lookup it costs finds them gone: the same
// deterministic index is inserted again, under its new identifier.
func TestFilterAfterDelete(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	<-s.fillDone
	ctx := context.Background()
	r := rec("det", randomBytes(32), nil)
	if _, err := s.Insert(ctx, []store.Record{r}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, r); err != nil {
		t.Fatalf("Delete() error = %v", err)
	}
	again := rec("det", bytes.Clone(r.Index), nil)
	out, err := s.Insert(ctx, []store.Record{again})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Status != store.Inserted || !bytes.Equal(out[0].ID, again.ID) {
		t.Errorf("Insert(deleted index again) = %v %x, want inserted %x", out[0].Status, out[0].ID, again.ID)
	}
}

// openDir opens the store in dir, failing the test if it cannot.
func openDir(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// reopen closes s and opens the store in dir again.
func reopen(t *testing.T, s *Store, dir string) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return openDir(t, dir)
}
