package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/privacyvault/privacyvault/store"
)

func checkSubject(subject []byte) error {
	if len(subject) == 0 || len(subject) > 255 {
		return fmt.Errorf("store/badger: subject must be 1 to 255 bytes")
	}
	return nil
}

// useSubject is use for calls keyed by a subject: the subject's length
// must fit the one-byte length prefix of subject keys.
func (s *Store) useSubject(ctx context.Context, subject []byte) error {
	if err := checkSubject(subject); err != nil {
		return err
	}
	return s.use(ctx)
}

// SubjectKey implements store.Store.
func (s *Store) SubjectKey(ctx context.Context, subject []byte, class string) ([]byte, error) {
	if err := s.useSubject(ctx, subject); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var out []byte
	err := s.view(func(txn *bdb.Txn) error {
		item, err := txn.Get(subjectKeyKey(subject, class))
		if errors.Is(err, bdb.ErrKeyNotFound) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store/badger: subject key: %w", err)
		}
		out, err = item.ValueCopy(nil)
		return err
	})
	return out, err
}

// PutSubjectKeyIfAbsent implements store.Store.
func (s *Store) PutSubjectKeyIfAbsent(ctx context.Context, subject []byte, class string, wrapped []byte) ([]byte, error) {
	if err := s.useSubject(ctx, subject); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	for attempt := 0; ; attempt++ {
		var out []byte
		err := s.update(func(txn *bdb.Txn) error {
			k := subjectKeyKey(subject, class)
			item, err := txn.Get(k)
			if err == nil {
				out, err = item.ValueCopy(nil)
				return err
			}
			if !errors.Is(err, bdb.ErrKeyNotFound) {
				return err
			}
			out = wrapped
			return txn.Set(k, wrapped)
		})
		if errors.Is(err, bdb.ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store/badger: subject key: %w", err)
		}
		return out, nil
	}
}

// SubjectRecords implements store.Store.
func (s *Store) SubjectRecords(ctx context.Context, subject []byte) ([]store.Record, error) {
	if err := s.useSubject(ctx, subject); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var out []store.Record
	err := s.view(func(txn *bdb.Txn) error {
		refs, err := subjectRefs(txn, subject)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			r, err := get(txn, ref.class, ref.id)
			if errors.Is(err, store.ErrNotFound) {
				continue // purged by retention
			}
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

type recordRef struct {
	class string
	id    []byte
	key   []byte
}

func subjectRefs(txn *bdb.Txn, subject []byte) ([]recordRef, error) {
	prefix := subjectPrefix(prefixSubjectIndex, subject)
	it := txn.NewIterator(bdb.IteratorOptions{Prefix: prefix})
	defer it.Close()
	var refs []recordRef
	for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
		k := it.Item().KeyCopy(nil)
		rest := k[len(prefix):]
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			return nil, errCorrupt
		}
		refs = append(refs, recordRef{class: string(rest[:i]), id: rest[i+1:], key: k})
	}
	return refs, nil
}

// EraseSubject implements store.Store. A transaction deletes the
// subject's records and their deterministic indexes; DropPrefix then
// removes every version of the subject's keys, index entries and consents
// from the memtables and all levels (it only drops keys that are live, so
// it must run before anything deletes them); a full compaction and
// value-log GC finally drop the deleted records' older versions. A crash
// in between leaves the subject keys in place, and erasing again finishes
// the job.
func (s *Store) EraseSubject(ctx context.Context, subject []byte) (store.Erased, error) {
	if err := s.useSubject(ctx, subject); err != nil {
		return store.Erased{}, err
	}
	defer s.mu.RUnlock()
	var n store.Erased
	inValueLog := false
	err := s.update(func(txn *bdb.Txn) error {
		n, inValueLog = store.Erased{}, false
		refs, err := subjectRefs(txn, subject)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			r, err := get(txn, ref.class, ref.id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if r.Index != nil {
				if err := deleteIndexEntry(txn, r.Class, r.Index); err != nil {
					return err
				}
			}
			if err := txn.Delete(recordKey(ref.class, ref.id)); err != nil {
				return err
			}
			inValueLog = inValueLog || s.inValueLog(r)
			n.Records++
		}
		if n.Keys, err = countPrefix(txn, subjectPrefix(prefixSubjectKey, subject)); err != nil {
			return err
		}
		n.Consents, err = countPrefix(txn, consentKey(subject, ""))
		return err
	})
	if err != nil {
		return store.Erased{}, fmt.Errorf("store/badger: erase subject: %w", err)
	}
	n.Remains = ErasureRemains
	if err := s.purgeDisk(subjectPrefix(prefixSubjectKey, subject), subjectPrefix(prefixSubjectIndex, subject), consentKey(subject, "")); err != nil {
		return n, fmt.Errorf("store/badger: erase subject: %w", err)
	}
	if inValueLog {
		s.mu.RUnlock()
		err := s.rotateValueLog()
		s.mu.RLock() // released by the deferred RUnlock
		if err != nil {
			return n, fmt.Errorf("store/badger: erase subject: %w", err)
		}
	}
	return n, nil
}

func countPrefix(txn *bdb.Txn, prefix []byte) (int, error) {
	it := txn.NewIterator(bdb.IteratorOptions{Prefix: prefix})
	defer it.Close()
	n := 0
	for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
		n++
	}
	return n, nil
}

// purgeDisk removes every version of keys under prefixes and compacts the
// tree so that deleted data's older versions are dropped.
func (s *Store) purgeDisk(prefixes ...[]byte) error {
	if err := s.dropPrefix(prefixes...); err != nil {
		return err
	}
	if err := s.db.Flatten(1); err != nil {
		return err
	}
	return s.valueLogGC()
}

// Rectify implements store.Store.
func (s *Store) Rectify(ctx context.Context, old, new store.Record) error {
	if err := s.use(ctx); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	err := s.update(func(txn *bdb.Txn) error {
		cur, err := get(txn, old.Class, old.ID)
		if err != nil {
			return err
		}
		if cur.KeyVersion != old.KeyVersion || !bytes.Equal(cur.Ciphertext, old.Ciphertext) {
			return store.ErrChanged
		}
		if !bytes.Equal(old.Index, new.Index) {
			if new.Index != nil {
				switch _, err := lookupIndex(txn, new.Class, new.Index); {
				case err == nil:
					return store.ErrIndexTaken
				case !errors.Is(err, store.ErrNotFound):
					return err
				}
				ik := indexKey(new.Class, new.Index)
				s.filter.add(ik) // s.update holds wmu
				if err := txn.Set(ik, bytes.Clone(new.ID)); err != nil {
					return err
				}
			}
			if old.Index != nil {
				if err := deleteIndexEntry(txn, old.Class, old.Index); err != nil {
					return err
				}
			}
		}
		rk := recordKey(new.Class, new.ID)
		s.filter.add(recordFilterKey(rk))
		return txn.Set(rk, encodeRecord(new))
	})
	if err != nil && !errors.Is(err, store.ErrChanged) && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrIndexTaken) {
		return fmt.Errorf("store/badger: rectify: %w", err)
	}
	return err
}

// DeleteExpired implements store.Store.
func (s *Store) DeleteExpired(ctx context.Context, class string, now time.Time, limit int) (int, error) {
	if err := s.use(ctx); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	n := 0
	err := s.update(func(txn *bdb.Txn) error {
		n = 0
		prefix := recordKey(class, nil)
		it := txn.NewIterator(bdb.IteratorOptions{PrefetchValues: true, Prefix: prefix})
		var expired []store.Record
		for it.Rewind(); it.ValidForPrefix(prefix) && len(expired) < limit; it.Next() {
			item := it.Item()
			r, err := itemRecord(item, class, item.KeyCopy(nil)[len(prefix):])
			if err != nil {
				it.Close()
				return err
			}
			if r.Expired(now) {
				expired = append(expired, r)
			}
		}
		it.Close()
		for _, r := range expired {
			if err := deleteRecord(txn, r); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store/badger: delete expired: %w", err)
	}
	return n, nil
}

// dropPrefix runs DropPrefix under the write lock: Badger refuses writes
// while it runs, so inserts wait for it rather than fail.
func (s *Store) dropPrefix(prefixes ...[]byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.db.DropPrefix(prefixes...)
}
