package core_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/kms/devkms"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/store/badger"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// collidingStore reports a collision for the first staged insert of every record,
// as if another token already held the random identifier.
type collidingStore struct {
	core.Store
	seen     map[string]bool
	rejected [][]byte
}

func (s *collidingStore) InsertStaged(ctx context.Context, recs []store.Record) ([]store.Outcome, func() error, error) {
	return stageRefusing(ctx, s.Store, recs, func(r store.Record) bool {
		if s.seen[string(r.ID)] || len(s.rejected) >= len(recs) {
			return false
		}
		s.seen[string(r.ID)] = true
		s.rejected = append(s.rejected, r.ID)
		return true
	})
}

// stageRefusing stages on st the records of recs that refuse does not
// pick, and reports the others as collisions, nothing of them written.
func stageRefusing(ctx context.Context, st core.Store, recs []store.Record, refuse func(store.Record) bool) ([]store.Outcome, func() error, error) {
	var pass []store.Record
	var passAt []int
	out := make([]store.Outcome, len(recs))
	for i, r := range recs {
		if refuse(r) {
			out[i] = store.Outcome{Status: store.Collision}
			continue
		}
		pass = append(pass, r)
		passAt = append(passAt, i)
	}
	res, wait, err := st.InsertStaged(ctx, pass)
	if err != nil {
		return nil, nil, err
	}
	for j, o := range res {
		out[passAt[j]] = o
	}
	return out, wait, nil
}

// tempStore opens a Badger store in a temporary directory, closed when
// the test ends.
func tempStore(t testing.TB) *badger.Store {
	t.Helper()
	st, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// tempKeys opens the development key provider in a temporary directory.
func tempKeys(t testing.TB) *devkms.Provider {
	t.Helper()
	keys, err := devkms.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func newService(t *testing.T, st core.Store) *core.Service {
	t.Helper()
	return newAuditedService(t, st, &memAuditor{})
}

func newAuditedService(t *testing.T, st core.Store, a *memAuditor) *core.Service {
	t.Helper()
	keys := tempKeys(t)
	svc, err := core.New(context.Background(), core.Config{
		Classes:       []core.ClassSpec{{Name: "card", Mode: tokenizer.Random}},
		Store:         st,
		Keys:          keys,
		Policy:        mustPolicy(t, policy.Spec{Grants: []policy.Grant{{Identity: "app", Purpose: "payment", Class: "card", Reveal: policy.Plain}}}),
		Auditor:       a,
		Fingerprints:  testFingerprints{},
		MaxValueBytes: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestTokenizeRetriesCollisions(t *testing.T) {
	bs := tempStore(t)
	st := &collidingStore{Store: bs, seen: map[string]bool{}}
	svc := newService(t, st)
	items := []core.TokenizeItem{{Class: "card", Value: []byte("4111111111111111")}, {Class: "card", Value: []byte("5500005555555559")}}
	res, err := svc.Tokenize(context.Background(), "app", items)
	if err != nil {
		t.Fatalf("Tokenize() error = %v", err)
	}
	if len(st.rejected) != 2 {
		t.Fatalf("store rejected %d inserts, want 2 (the test store did not collide)", len(st.rejected))
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("Tokenize()[%d] error = %v", i, r.Err)
		}
		got, err := svc.Detokenize(context.Background(), "app", "payment", []core.DetokenizeItem{{Class: "card", Token: r.Token}})
		if err != nil || got[0].Err != nil || !bytes.Equal(got[0].Value, items[i].Value) {
			t.Errorf("Detokenize(token %d after collision) = %q, %v; want %q", i, got[0].Value, got[0].Err, items[i].Value)
		}
	}
}

// TestLargeTokenizeRetriesCollisions: in a call large enough to be
// prepared and issued across the cores, a collided record is inserted
// again under a new identifier, and the token returned and audited is the
// new one's.
func TestLargeTokenizeRetriesCollisions(t *testing.T) {
	bs := tempStore(t)
	st := &collidingStore{Store: bs, seen: map[string]bool{}}
	a := &memAuditor{}
	svc := newAuditedService(t, st, a)
	items := make([]core.TokenizeItem, 300)
	for i := range items {
		items[i] = core.TokenizeItem{Class: "card", Value: []byte(fmt.Sprintf("4111%012d", i))}
	}
	res, err := svc.Tokenize(context.Background(), "app", items)
	if err != nil {
		t.Fatalf("Tokenize(%d items) error = %v", len(items), err)
	}
	if len(st.rejected) != len(items) {
		t.Fatalf("store rejected %d inserts, want %d (the test store did not collide)", len(st.rejected), len(items))
	}
	var want []string
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("Tokenize()[%d] error = %v", i, r.Err)
		}
		want = append(want, testFingerprints{}.Token("card", r.Token))
	}
	toks := make([]core.DetokenizeItem, len(res))
	for i, r := range res {
		toks[i] = core.DetokenizeItem{Class: "card", Token: r.Token}
	}
	got, err := svc.Detokenize(context.Background(), "app", "payment", toks)
	if err != nil {
		t.Fatalf("Detokenize() error = %v", err)
	}
	for i, g := range got {
		if g.Err != nil || !bytes.Equal(g.Value, items[i].Value) {
			t.Fatalf("Detokenize(token %d after collision) = %q, %v; want %q", i, g.Value, g.Err, items[i].Value)
		}
	}
	if len(a.events) == 0 || a.events[0].Op != audit.OpTokenize {
		t.Fatalf("audit events = %v, want the tokenize event first", a.events)
	}
	if fps := a.events[0].Tokens; !slices.Equal(fps, want) {
		t.Errorf("tokenize event fingerprints = %d of them, first %q; want the %d tokens' own, first %q", len(fps), fps[:min(1, len(fps))], len(want), want[0])
	}
}

// memAuditor keeps events in memory; fail makes Record fail.
type memAuditor struct {
	mu     sync.Mutex
	events []core.AuditEvent
	fail   bool
}

func (a *memAuditor) Record(_ context.Context, e core.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail {
		return errors.New("disk full")
	}
	a.events = append(a.events, e)
	return nil
}

// testFingerprints is a keyed fingerprint for tests.
type testFingerprints struct{}

func (testFingerprints) Token(class, token string) string { return fp("t", class, token) }
func (testFingerprints) Subject(id string) string         { return fp("s", "", id) }

func fp(parts ...string) string {
	m := hmac.New(sha256.New, []byte("test-key"))
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func mustPolicy(t *testing.T, spec policy.Spec) *policy.Policy {
	t.Helper()
	p, err := policy.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
