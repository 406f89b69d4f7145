package core

import (
	"context"
	"fmt"
	"slices"

	"github.com/privacyvault/privacyvault/tokenizer"
)

// KeyVersionStatus is one key version of a class.
type KeyVersionStatus struct {
	Version uint32
	// Records is how many stored records are sealed under this version.
	Records uint64
	Current bool
	// SubjectKeys is how many per-subject keys this version wraps.
	SubjectKeys uint64
	// Retired versions are below the minimum decryption version.
	Retired bool
}

// ClassKeyStatus is the key state of one class.
type ClassKeyStatus struct {
	Class                string
	Mode                 tokenizer.Mode
	Current              uint32
	MinDecryptionVersion uint32
	// FPEKeyVersion is the version an fpe class encrypts with.
	FPEKeyVersion uint32
	Versions      []KeyVersionStatus
}

// KeyStatus reports every class's key versions and, for vaulted classes,
// how many records each version seals. Counting walks the store.
func (s *KeyAdmin) KeyStatus(ctx context.Context) ([]ClassKeyStatus, error) {
	out := make([]ClassKeyStatus, 0, len(s.classes))
	subjectKeys, err := s.subjectKeyCounts(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range s.classNames() {
		st, err := s.classStatusWith(ctx, s.classes[name].load(), subjectKeys[name])
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *KeyAdmin) classStatus(ctx context.Context, c *class) (ClassKeyStatus, error) {
	subjectKeys, err := s.subjectKeyCounts(ctx)
	if err != nil {
		return ClassKeyStatus{}, err
	}
	return s.classStatusWith(ctx, c, subjectKeys[c.Name])
}

func (s *KeyAdmin) classStatusWith(ctx context.Context, c *class, subjectKeys map[uint32]uint64) (ClassKeyStatus, error) {
	counts := map[uint32]uint64{}
	if c.Mode.Vaulted() {
		var err error
		if counts, err = s.countByVersion(ctx, c.Name); err != nil {
			return ClassKeyStatus{}, err
		}
	}
	st := ClassKeyStatus{Class: c.Name, Mode: c.Mode, Current: c.current, MinDecryptionVersion: c.ring.MinDecryptionVersion()}
	if c.Mode == tokenizer.FPE {
		st.FPEKeyVersion = max(c.FPEKeyVersion, 1)
	}
	for _, v := range c.ring.Versions() {
		st.Versions = append(st.Versions, KeyVersionStatus{
			Version:     v,
			Records:     counts[v],
			Current:     v == c.current,
			SubjectKeys: subjectKeys[v],
			Retired:     v < c.ring.MinDecryptionVersion(),
		})
	}
	return st, nil
}

const scanPage = 256

func (s *KeyAdmin) countByVersion(ctx context.Context, class string) (map[uint32]uint64, error) {
	counts := map[uint32]uint64{}
	var after []byte
	for {
		page, err := s.store.Scan(ctx, class, after, scanPage)
		if err != nil {
			return nil, fmt.Errorf("core: count records: %w", err)
		}
		if len(page) == 0 {
			return counts, nil
		}
		for _, r := range page {
			counts[r.KeyVersion]++
		}
		after = page[len(page)-1].ID
	}
}

// Rotate adds a key version to class. Vaulted classes seal new tokens
// with it at once; other sidecars pick it up within their refresh
// interval, or at once when they meet a record sealed under it. An fpe
// class keeps encrypting with its configured key version: its tokens
// cannot name a version, so the new one is used only after Retokenize and
// a configuration change. Mask and hash classes have nothing to rotate.
func (s *KeyAdmin) Rotate(ctx context.Context, class string) (ClassKeyStatus, error) {
	c, err := s.class(class)
	if err != nil {
		return ClassKeyStatus{}, err
	}
	if !c.Mode.Reversible() {
		return ClassKeyStatus{}, &PreconditionError{Reason: fmt.Sprintf("class %s uses mode %s, whose tokens use no rotating key", c.Name, c.Mode)}
	}
	ring, err := s.keys.Rotate(ctx, class)
	if err != nil {
		return ClassKeyStatus{}, fmt.Errorf("core: rotate %s: %w", class, err)
	}
	if c, err = s.classes[class].install(ring); err != nil {
		return ClassKeyStatus{}, err
	}
	return s.classStatus(ctx, c)
}

// Rewrap re-wraps every stored data key under the newest key-encryption
// key version and returns how many it re-wrapped. Tokens are untouched.
func (s *KeyAdmin) Rewrap(ctx context.Context) (int, error) {
	n, err := s.keys.Rewrap(ctx)
	if err != nil {
		return n, fmt.Errorf("core: rewrap: %w", err)
	}
	return n, nil
}

// Retire sets class's minimum decryption version to below, refusing while
// any record is still sealed under an older version (run Reencrypt first).
func (s *KeyAdmin) Retire(ctx context.Context, class string, below uint32) (ClassKeyStatus, error) {
	c, err := s.class(class)
	if err != nil {
		return ClassKeyStatus{}, err
	}
	if below < 1 || below > c.current {
		return ClassKeyStatus{}, Invalid("below", "must be between 1 and the current version %d", c.current)
	}
	counts, err := s.countByVersion(ctx, class)
	if err != nil {
		return ClassKeyStatus{}, err
	}
	var need uint64
	for v, n := range counts {
		if v > 0 && v < below { // version 0: sealed under subject keys
			need += n
		}
	}
	if need > 0 {
		return ClassKeyStatus{}, &PreconditionError{Reason: fmt.Sprintf("%d records of class %s are still sealed under versions below %d; run reencrypt first", need, class, below)}
	}
	subjectKeys, err := s.subjectKeyCounts(ctx)
	if err != nil {
		return ClassKeyStatus{}, err
	}
	for v, n := range subjectKeys[class] {
		if v < below {
			need += n
		}
	}
	if need > 0 {
		return ClassKeyStatus{}, &PreconditionError{Reason: fmt.Sprintf("%d subject keys of class %s are still wrapped under versions below %d; run reencrypt first", need, class, below)}
	}
	ring, err := s.keys.SetMinDecryptionVersion(ctx, class, below)
	if err != nil {
		return ClassKeyStatus{}, fmt.Errorf("core: retire %s: %w", class, err)
	}
	if c, err = s.classes[class].install(ring); err != nil {
		return ClassKeyStatus{}, err
	}
	return s.classStatus(ctx, c)
}

func (s *registry) classNames() []string {
	names := make([]string, 0, len(s.classes))
	for n := range s.classes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
