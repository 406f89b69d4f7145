package core

import (
	"context"
	"runtime"
	"time"

	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// tokenizeBatch is one tokenize call's items and what has been made of
// them so far.
type tokenizeBatch struct {
	items []TokenizeItem
	res   []TokenResult
	// fps[i] is the audit fingerprint of res[i].Token when it was computed
	// with the token, "" otherwise (auditTokens computes the rest), spelled
	// in slot i of fpSet.
	fps   []string
	fpSet fpSlots
	// Set by prepareAll for a large call, nil otherwise.
	states []itemState
	recs   []store.Record // the sealed record of a staged item
}

// itemState is how far prepareAll took an item.
type itemState uint8

const (
	itemPending itemState = iota // left to the sequential pass
	itemDone                     // res[i] holds its result
	itemStaged                   // recs[i] holds its record, to insert
)

func (b *tokenizeBatch) state(i int) itemState {
	if b.states == nil {
		return itemPending
	}
	return b.states[i]
}

// prepareAll does, across the cores, the work of each item of a large
// call that depends on nothing but the item: vaultless transforms (fpe,
// mask, hash) without a subject key, with their audit fingerprints; for
// vaulted items without a subject, the identifier, the deterministic
// index and the sealed record. (Their tokens are encoded once the store
// has decided, by issueTokens, while the store syncs.) Items of unknown
// classes, vaulted items with a subject and shred_with_subject classes
// are left to the sequential pass, which reads and creates subject keys
// in item order.
func (s *DataPlane) prepareAll(ctx context.Context, b *tokenizeBatch, now time.Time) error {
	if len(b.items) < 2*minChunk {
		return nil
	}
	b.states = make([]itemState, len(b.items))
	if s.anyVaulted(b.items) {
		b.recs = make([]store.Record, len(b.items))
	}
	var fatal firstError
	inParallel(len(b.items), func(lo, hi int) {
		var (
			texts textArena
			recs  recordArena
		)
		for i := lo; i < hi; i++ {
			if err := s.prepare(ctx, b, i, now, &texts, &recs); err != nil {
				fatal.set(err)
				return
			}
		}
	})
	return fatal.get()
}

// anyVaulted reports whether an item names a vaulted class.
func (s *DataPlane) anyVaulted(items []TokenizeItem) bool {
	return s.anyVaultedClass(len(items), func(i int) string { return items[i].Class })
}

// anyVaultedClass reports whether class(i) names a vaulted class for any
// i below n.
func (s *DataPlane) anyVaultedClass(n int, class func(int) string) bool {
	last := ""
	for i := range n {
		c := class(i)
		if i > 0 && c == last {
			continue // a batch is mostly of one class
		}
		last = c
		if sl, ok := s.classes[c]; ok && sl.load().Mode.Vaulted() {
			return true
		}
	}
	return false
}

// prepare does the work of items[i] that depends on nothing else, as the
// sequential pass of tokenizeStaged would; an error fails the call. The
// value's text comes from texts, a vaulted record's random bytes and
// sealed value from recs.
func (s *DataPlane) prepare(ctx context.Context, b *tokenizeBatch, i int, now time.Time, texts *textArena, recs *recordArena) error {
	it := b.items[i]
	sl, ok := s.classes[it.Class]
	if !ok {
		return nil
	}
	c := sl.load()
	if c.ShredWithSubject || c.Mode.Vaulted() && it.SubjectID != "" {
		return nil
	}
	b.states[i] = itemDone
	text, err := s.checkClassText(c, it.Value, texts)
	if err != nil {
		b.res[i].Err = err
		return nil
	}
	if !c.Mode.Vaulted() {
		tok, err := s.transform(ctx, c, it, text)
		if err != nil && !isItemError(err) {
			return err
		}
		b.res[i] = TokenResult{Token: tok, Err: err}
		if tok != "" {
			b.fps[i] = b.fpSet.token(i, it.Class, fpNameOf(c, tok, true))
		}
		return nil
	}
	r := store.Record{Class: c.Name, ID: recs.random(tokenizer.IDSize), KeyVersion: c.current, CreatedAt: now}
	if c.Mode == tokenizer.Deterministic {
		r.Index = c.indexer.AppendIndex(recs.buffer(tokenizer.IndexSize), it.Value)
		detID(r)
	}
	ttl, err := retention(c.Retention, it.TTL)
	if err != nil {
		b.res[i].Err = err
		return nil
	}
	if ttl > 0 {
		r.ExpiresAt = now.Add(ttl)
	}
	sealer, err := s.recordSealerCached(ctx, c, r, true, nil) // a class key: no cache needed
	if err != nil {
		return err
	}
	r.Ciphertext = sealer.AppendSeal(recs.buffer(sealer.SealedLen(len(it.Value))), recs.random(tokenizer.NonceSize), r.ID, it.Value)
	b.recs[i], b.states[i] = r, itemStaged
	return nil
}

// issueTokens sets the token of every item whose record the store decided
// — inserted, or for a deterministic value the record already holding it
// — with its audit fingerprint, across the cores when there are many.
// The store syncs meanwhile. Collided records go again under a new
// identifier (tokenizeStaged).
func (s *DataPlane) issueTokens(b *tokenizeBatch, recs []store.Record, pos []int, out []store.Outcome) {
	inParallel(len(out), func(lo, hi int) {
		var (
			texts *textArena // a large chunk's tokens are spelled into blocks
			buf   [64]byte
		)
		if hi-lo >= minChunk {
			texts = &textArena{}
		}
		for j := lo; j < hi; j++ {
			if o := out[j]; o.Status == store.Inserted || o.Status == store.Existing {
				i := pos[j]
				tok := texts.text(s.classes[recs[j].Class].load().codec.AppendEncode(buf[:0], o.ID))
				b.res[i].Token, b.fps[i] = tok, s.tokenFPIn(b.fpSet, i, b.items[i].Class, tok, true)
			}
		}
	})
}

// OverlapItems is the fewest items for which TokenizeThen runs then on
// another goroutine during the syncs: a batch of 1,000 builds and encodes
// its response in about 75 µs, a third of an fsync; for a handful of
// items the hand-off would cost more than it hides.
const OverlapItems = 2 * minChunk

// alongside returns wait(), having run meanwhile on another goroutine
// when overlap is set, or after wait succeeded otherwise. A panic in
// meanwhile is raised again on the caller's goroutine, where the
// server's recovery catches it.
func alongside(overlap bool, meanwhile func(), wait func() error) error {
	if !overlap {
		if err := wait(); err != nil {
			return err
		}
		meanwhile()
		return nil
	}
	var raised any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { raised = recover() }()
		// The audit writer yields once before it encodes the event (to
		// gather other callers' events); this goroutine, queued before
		// it on the same core, would otherwise run first and hold the
		// event back, rather than run during the fsync.
		runtime.Gosched()
		meanwhile()
	}()
	err := wait()
	<-done
	if raised != nil {
		panic(raised)
	}
	return err
}
