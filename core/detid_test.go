package core_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/kms/devkms"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// randomIDStore refuses, as a collision, every record indexed by its ID,
// so that core re-draws it with a random ID: records as stores held them
// before deterministic records were indexed by their ID (a random ID and
// an index entry).
type randomIDStore struct {
	core.Store
	refused int
}

func (s *randomIDStore) InsertStaged(ctx context.Context, recs []store.Record) ([]store.Outcome, func() error, error) {
	return stageRefusing(ctx, s.Store, recs, func(r store.Record) bool {
		if store.IndexedByID(r) {
			s.refused++
			return true
		}
		return false
	})
}

func detService(t *testing.T, st core.Store, keys *devkms.Provider) *core.Service {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(nil)
	svc, err := core.New(context.Background(), core.Config{
		Classes: []core.ClassSpec{{Name: "email", Mode: tokenizer.Deterministic}},
		Store:   st,
		Keys:    keys,
		Policy: mustPolicy(t, policy.Spec{
			Purposes: []policy.Purpose{{Name: "support"}},
			Grants:   []policy.Grant{{Identity: "desk", Purpose: "support", Class: "*", Reveal: policy.Plain}},
		}),
		Auditor:       &memAuditor{},
		Fingerprints:  testFingerprints{},
		Receipts:      audit.NewEd25519Signer(priv),
		MaxValueBytes: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc
}

// TestDeterministicRandomIDRecordsStillFound: deterministic tokens
// issued with random IDs and index entries (a store written before
// records were indexed by their ID) are found again — in a large call
// prepared across the cores and one item alone —, detokenize, and are
// looked up; deleting one frees its value, whose next token is indexed by
// its ID and new; values tokenized since are indexed by their ID, stable,
// and a deleted one never comes back.
func TestDeterministicRandomIDRecordsStillFound(t *testing.T) {
	ctx := context.Background()
	st, keys := tempStore(t), tempKeys(t)
	items := make([]core.TokenizeItem, 200)
	for i := range items {
		items[i] = core.TokenizeItem{Class: "email", Value: []byte(fmt.Sprintf("old-%03d@example.com", i))}
	}
	oldStore := &randomIDStore{Store: st}
	before := detService(t, oldStore, keys)
	oldToks := tokenizeAll(t, before, items)
	single := tokenizeAll(t, before, items[:1])
	// Every record offered was indexed by its ID, and refused: the single
	// item's too, whose random-ID retry found the first record.
	if oldStore.refused != len(items)+1 || single[0] != oldToks[0] {
		t.Fatalf("old-scheme store refused %d records, single token %q; want %d refused and %q", oldStore.refused, single[0], len(items)+1, oldToks[0])
	}

	svc := detService(t, st, keys)
	for name, got := range map[string][]string{"batch": tokenizeAll(t, svc, items), "one item": tokenizeAll(t, svc, items[:1])} {
		for i, tok := range got {
			if tok != oldToks[i] {
				t.Errorf("Tokenize(%s, old value %d) = %q, want the old token %q", name, i, tok, oldToks[i])
			}
		}
	}
	checkReveals(t, svc, oldToks, items)
	looked, err := svc.Lookup(ctx, "app", []core.LookupItem{{Class: "email", Value: items[5].Value}})
	if err != nil || looked[0].Err != nil || looked[0].Token != oldToks[5] {
		t.Errorf("Lookup(old value) = %+v, %v; want %q", looked, err, oldToks[5])
	}

	if _, err := svc.DeleteToken(ctx, "dpo", "email", oldToks[7]); err != nil {
		t.Fatalf("DeleteToken(old token) = %v", err)
	}
	again := tokenizeAll(t, svc, items[7:8])[0]
	if again == oldToks[7] {
		t.Errorf("Tokenize(value of a deleted old token) = the deleted token, want a new one")
	}
	checkReveals(t, svc, []string{again}, items[7:8])
	checkGone(t, svc, oldToks[7])

	fresh := []core.TokenizeItem{{Class: "email", Value: []byte("new@example.com")}}
	tok := tokenizeAll(t, svc, fresh)[0]
	if got := tokenizeAll(t, svc, fresh)[0]; got != tok {
		t.Errorf("Tokenize(new value again) = %q, want %q", got, tok)
	}
	if _, err := svc.DeleteToken(ctx, "dpo", "email", tok); err != nil {
		t.Fatalf("DeleteToken(new token) = %v", err)
	}
	next := tokenizeAll(t, svc, fresh)[0]
	if next == tok {
		t.Errorf("Tokenize(value of a deleted token) = the deleted token, want a new one")
	}
	checkGone(t, svc, tok)
	checkReveals(t, svc, []string{next}, fresh)
	if got := tokenizeAll(t, svc, fresh)[0]; got != next {
		t.Errorf("Tokenize(value again after its new token) = %q, want %q", got, next)
	}
}

func tokenizeAll(t *testing.T, svc *core.Service, items []core.TokenizeItem) []string {
	t.Helper()
	res, err := svc.Tokenize(context.Background(), "app", items)
	if err != nil {
		t.Fatalf("Tokenize() = %v", err)
	}
	toks := make([]string, len(res))
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("Tokenize()[%d] = %v", i, r.Err)
		}
		toks[i] = r.Token
	}
	return toks
}

// checkReveals fails unless every token detokenizes to its item's value.
func checkReveals(t *testing.T, svc *core.Service, toks []string, items []core.TokenizeItem) {
	t.Helper()
	req := make([]core.DetokenizeItem, len(toks))
	for i, tok := range toks {
		req[i] = core.DetokenizeItem{Class: "email", Token: tok}
	}
	got, err := svc.Detokenize(context.Background(), "desk", "support", req)
	if err != nil {
		t.Fatalf("Detokenize() = %v", err)
	}
	for i, g := range got {
		if g.Err != nil || !bytes.Equal(g.Value, items[i].Value) {
			t.Errorf("Detokenize(token %d) = %q, %v; want %q", i, g.Value, g.Err, items[i].Value)
		}
	}
}

// checkGone fails unless tok is not found.
func checkGone(t *testing.T, svc *core.Service, tok string) {
	t.Helper()
	got, err := svc.Detokenize(context.Background(), "desk", "support", []core.DetokenizeItem{{Class: "email", Token: tok}})
	if err != nil || !errors.Is(got[0].Err, core.ErrNotFound) {
		t.Errorf("Detokenize(deleted token) = %+v, %v; want ErrNotFound", got, err)
	}
}
