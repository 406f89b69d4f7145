package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/privacyvault/privacyvault/store"
)

// SubjectKeys implements store.Store. The cursor is the Badger key.
func (s *Store) SubjectKeys(ctx context.Context, after []byte, limit int) ([]store.SubjectKeyEntry, error) {
	if err := s.use(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	prefix := []byte{prefixSubjectKey}
	var out []store.SubjectKeyEntry
	err := s.view(func(txn *bdb.Txn) error {
		it := txn.NewIterator(bdb.IteratorOptions{PrefetchValues: true, Prefix: prefix})
		defer it.Close()
		start := prefix
		if after != nil {
			start = append(bytes.Clone(after), 0)
		}
		for it.Seek(start); it.ValidForPrefix(prefix) && len(out) < limit; it.Next() {
			k := it.Item().KeyCopy(nil)
			if len(k) < 2 || len(k) < 2+int(k[1]) {
				return errCorrupt
			}
			n := int(k[1])
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, store.SubjectKeyEntry{Subject: k[2 : 2+n], Class: string(k[2+n:]), Wrapped: v, Cursor: k})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store/badger: subject keys: %w", err)
	}
	return out, nil
}

// ReplaceSubjectKey implements store.Store.
func (s *Store) ReplaceSubjectKey(ctx context.Context, subject []byte, class string, old, new []byte) error {
	if err := s.useSubject(ctx, subject); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	for attempt := 0; ; attempt++ {
		err := s.update(func(txn *bdb.Txn) error {
			k := subjectKeyKey(subject, class)
			item, err := txn.Get(k)
			if errors.Is(err, bdb.ErrKeyNotFound) {
				return store.ErrNotFound
			}
			if err != nil {
				return err
			}
			cur, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if !bytes.Equal(cur, old) {
				return store.ErrChanged
			}
			return txn.Set(k, bytes.Clone(new))
		})
		if errors.Is(err, bdb.ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		if err != nil && !errors.Is(err, store.ErrChanged) && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("store/badger: replace subject key: %w", err)
		}
		return err
	}
}
