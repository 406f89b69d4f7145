package core

import (
	"context"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/tokenizer"
	"github.com/privacyvault/privacyvault/tokenizer/format"
)

// ClassSpec configures one data class.
type ClassSpec struct {
	Name      string
	Mode      tokenizer.Mode
	Binary    bool          // accept values that are not UTF-8
	Retention time.Duration // 0 keeps tokens until erased
	// Format parses the class's values; required for fpe and mask, optional
	// otherwise (it then validates values and shapes masked reveals).
	Format format.Format
	// Algorithm is the FPE cipher of an fpe class.
	Algorithm tokenizer.Algorithm
	// ShredWithSubject keys an fpe class's tweak by the subject's key, so
	// erasing the subject reaches its vaultless tokens too; every item then
	// needs a subject id.
	ShredWithSubject bool
	// FPEKeyVersion is the keyring version an fpe class encrypts with (0
	// means 1). FPE tokens cannot name their key version, so moving to a
	// new one is a re-tokenization (Service.Retokenize) followed by a
	// configuration change, never an automatic switch on rotation.
	FPEKeyVersion uint32
}

// slot holds the live class of one spec. Rotation, refresh and reloads
// install a new class; readers take whichever is current.
type slot struct {
	spec ClassSpec
	cur  atomic.Pointer[class]
	mu   sync.Mutex // serializes installs

	flight   sync.Mutex // guards inflight
	inflight *reloadCall
}

// reloadCall is one keyring fetch that concurrent reloads of a slot share.
type reloadCall struct {
	done    chan struct{}
	waiters atomic.Int32 // callers sharing the fetch, besides the one making it
	c       *class
	err     error
}

// reload fetches the slot's keyring with fetch and installs it. Callers
// that arrive while a fetch is running share its result: after a rotation
// elsewhere, every record under the new version asks for a reload, and one
// provider call serves them all. The fetch does not end with the first
// caller's context, which would fail the others too.
func (s *slot) reload(ctx context.Context, fetch func(context.Context) (*kms.Keyring, error)) (*class, error) {
	s.flight.Lock()
	if call := s.inflight; call != nil {
		call.waiters.Add(1)
		s.flight.Unlock()
		select {
		case <-call.done:
			return call.c, call.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	call := &reloadCall{done: make(chan struct{})}
	s.inflight = call
	s.flight.Unlock()
	ring, err := fetch(context.WithoutCancel(ctx))
	if err == nil {
		call.c, call.err = s.install(ring)
	} else {
		call.err = err
	}
	s.flight.Lock()
	s.inflight = nil
	s.flight.Unlock()
	close(call.done)
	return call.c, call.err
}

func (s *slot) load() *class { return s.cur.Load() }

// install builds the class for ring and makes it current, unless the
// current class already has the same keyring state.
func (s *slot) install(ring *kms.Keyring) (*class, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.cur.Load(); c != nil && sameRing(c.ring, ring) {
		return c, nil
	}
	c, err := newClass(s.spec, ring)
	if err != nil {
		return nil, err
	}
	s.cur.Store(c)
	return c, nil
}

func sameRing(a, b *kms.Keyring) bool {
	return a.Current().Version() == b.Current().Version() &&
		a.MinDecryptionVersion() == b.MinDecryptionVersion() &&
		slices.Equal(a.Versions(), b.Versions())
}

// class is a ClassSpec with the primitives built from its keyring. It is
// immutable; a key rotation builds a new one.
type class struct {
	ClassSpec
	ring    *kms.Keyring
	codec   *tokenizer.Codec
	indexer *tokenizer.Indexer
	// subjectIndexer indexes deterministic values linked to a subject.
	subjectIndexer *tokenizer.Indexer
	engine         format.Engine // fpe and hash modes
	hashKey        []byte        // hash mode
	current        uint32
	sealers        map[uint32]*tokenizer.Sealer
	subjectAEADs   map[*kms.Key]cipher.AEAD // every held version
	// noContextTweak is tweak("", nil), computed once: most calls give no
	// context, and hashing the class name per item showed in batch
	// profiles.
	noContextTweak []byte
}

// Labels for keys derived from a class data key. Token tags, the
// deterministic index and hash keys come from the class's first key
// version so they stay stable across rotations: rotating them would change
// every deterministic token and invalidate every issued one. FPE keys come
// from the configured FPE key version.
const (
	labelSeal         = "seal/aes-256-gcm"
	labelTag          = "token-tag/hmac-sha256"
	labelIndex        = "index/hmac-sha256"
	labelSubjectIndex = "subject-index/hmac-sha256"
	labelFF1          = "fpe/ff1-aes-256"
	labelFF31         = "fpe/ff3-1-aes-256"
	labelHash         = "hash/hmac-sha256"
)

func newClass(spec ClassSpec, ring *kms.Keyring) (*class, error) {
	stable := ring.First()
	c := &class{
		ClassSpec:      spec,
		codec:          tokenizer.NewCodec(spec.Name, stable.Derive(labelTag)),
		indexer:        tokenizer.NewIndexer(stable.Derive(labelIndex)),
		subjectIndexer: tokenizer.NewIndexer(stable.Derive(labelSubjectIndex)),
		current:        ring.Current().Version(),
		sealers:        map[uint32]*tokenizer.Sealer{},
		subjectAEADs:   map[*kms.Key]cipher.AEAD{},
		ring:           ring,
	}
	switch {
	case spec.Mode == tokenizer.FPE:
		e, err := fpeEngine(spec, ring, max(spec.FPEKeyVersion, 1))
		if err != nil {
			return nil, err
		}
		c.engine = e
	case spec.Mode == tokenizer.Hash:
		c.hashKey = stable.Derive(labelHash)
		c.engine = tokenizer.NewHashEngine(c.hashKey)
	}
	c.noContextTweak = c.contextTweak("")
	for _, v := range ring.Versions() {
		held, _ := ring.Held(v)
		c.subjectAEADs[held] = newSubjectAEAD(held)
		k, err := ring.Key(v)
		if err != nil {
			continue // retired: no sealer, records under it fail to open
		}
		s, err := tokenizer.NewSealer(spec.Name, k.Derive(labelSeal))
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", spec.Name, err)
		}
		c.sealers[v] = s
	}
	return c, nil
}

// index returns the deterministic index of value. Values linked to a
// subject are indexed per subject, so two subjects never share a token and
// erasing one never touches another's.
func (c *class) index(subject, value []byte) []byte {
	if subject == nil {
		return c.indexer.Index(value)
	}
	// A separate key keeps subject-scoped indexes apart from plain ones;
	// the length prefix keeps subject and value apart.
	msg := append([]byte{byte(len(subject))}, subject...)
	return c.subjectIndexer.Index(append(msg, value...))
}

// fpeEngine returns the FPE engine of keyring version v.
func fpeEngine(spec ClassSpec, ring *kms.Keyring, v uint32) (format.Engine, error) {
	k, err := ring.Held(v)
	if err != nil {
		return nil, fmt.Errorf("class %s: fpe key version: %w (rotate the class to create it)", spec.Name, err)
	}
	if spec.Algorithm == tokenizer.FF31 {
		return tokenizer.NewFF31Engine(k.Derive(labelFF31)), nil
	}
	return tokenizer.NewFF1Engine(k.Derive(labelFF1)), nil
}

// sealer returns the sealer of version v, or the keyring's reason there is
// none (kms.ErrUnknownVersion, kms.ErrRetiredVersion).
func (c *class) sealer(v uint32) (*tokenizer.Sealer, error) {
	s, ok := c.sealers[v]
	if !ok {
		if _, err := c.ring.Key(v); err != nil {
			return nil, fmt.Errorf("class %s: %w", c.Name, err)
		}
		return nil, fmt.Errorf("class %s: %w: %d", c.Name, kms.ErrUnknownVersion, v)
	}
	return s, nil
}

// ff31TweakSize is FF3-1's tweak: 56 bits.
const ff31TweakSize = 7

// tweak returns the FPE/hash tweak of an item. FF1 tweaks are derived from
// the class name and the optional context, so equal values in different
// classes or contexts give unrelated tokens; FF3-1 tweaks are the caller's,
// for compatibility with data tokenized elsewhere.
func (c *class) tweak(context string, given []byte) ([]byte, error) {
	if c.Mode == tokenizer.FPE && c.Algorithm == tokenizer.FF31 {
		if len(given) != ff31TweakSize {
			return nil, Invalid("tweak", "class %s uses ff3-1 and needs a %d-byte tweak, got %d bytes", c.Name, ff31TweakSize, len(given))
		}
		return given, nil
	}
	if context == "" && c.noContextTweak != nil {
		return c.noContextTweak, nil
	}
	return c.contextTweak(context), nil
}

// contextTweak is the 8-byte FF1 and hash tweak of class and context.
func (c *class) contextTweak(context string) []byte {
	h := sha256.New()
	h.Write([]byte("privacyvault/tweak/v1\x00"))
	h.Write([]byte(c.Name))
	h.Write([]byte{0})
	h.Write([]byte(context))
	// 8 bytes keep FF1's per-round block count at one for common lengths
	// (tweak, counter and a half fit one AES block).
	return h.Sum(nil)[:8:8] // capped: the no-context tweak is shared
}

func (s *registry) class(name string) (*class, error) {
	if name == "" {
		return nil, Invalid("class", "is required")
	}
	sl, ok := s.classes[name]
	if !ok {
		return nil, s.unknownClass(name)
	}
	return sl.load(), nil
}
