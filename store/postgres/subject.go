package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/privacyvault/privacyvault/store"
)

// GetMeta implements store.Store.
func (s *Store) GetMeta(ctx context.Context, name string) ([]byte, error) {
	if err := s.use(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM pv_meta WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return v, wrapErr("meta", err)
}

// PutMeta implements store.Store.
func (s *Store) PutMeta(ctx context.Context, name string, value []byte) error {
	if err := s.use(ctx); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if value == nil {
		value = []byte{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO pv_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return wrapErr("meta", err)
}

func (s *Store) useSubject(ctx context.Context, subject []byte) error {
	if err := checkSubject(subject); err != nil {
		return err
	}
	return s.use(ctx)
}

// PutConsent implements store.Store.
func (s *Store) PutConsent(ctx context.Context, c store.Consent) error {
	if err := s.useSubject(ctx, c.Subject); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	_, err := s.pool.Exec(ctx, `
INSERT INTO pv_consents (subject, purpose, lawful_basis, granted_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (subject, purpose) DO UPDATE SET lawful_basis = excluded.lawful_basis, granted_at = excluded.granted_at,
    expires_at = excluded.expires_at, revoked_at = excluded.revoked_at`,
		c.Subject, c.Purpose, c.LawfulBasis, nanos(c.GrantedAt), nanos(c.ExpiresAt), nanos(c.RevokedAt))
	return wrapErr("consent", err)
}

// Consents implements store.Store.
func (s *Store) Consents(ctx context.Context, subject []byte) ([]store.Consent, error) {
	if err := s.useSubject(ctx, subject); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	rows, err := s.pool.Query(ctx, `SELECT purpose, lawful_basis, granted_at, expires_at, revoked_at FROM pv_consents WHERE subject = $1`, subject)
	if err != nil {
		return nil, wrapErr("consents", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Consent, error) {
		c := store.Consent{Subject: bytes.Clone(subject)}
		var granted, expires, revoked *int64
		err := row.Scan(&c.Purpose, &c.LawfulBasis, &granted, &expires, &revoked)
		c.GrantedAt, c.ExpiresAt, c.RevokedAt = fromNanos(granted), fromNanos(expires), fromNanos(revoked)
		return c, err
	})
	if err != nil {
		return nil, wrapErr("consents", err)
	}
	// Byte order of purposes, whatever the database's collation.
	slices.SortFunc(out, func(a, b store.Consent) int { return strings.Compare(a.Purpose, b.Purpose) })
	return out, nil
}

// SubjectKey implements store.Store.
func (s *Store) SubjectKey(ctx context.Context, subject []byte, class string) ([]byte, error) {
	if err := s.useSubject(ctx, subject); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var w []byte
	err := s.pool.QueryRow(ctx, `SELECT wrapped FROM pv_subject_keys WHERE subject = $1 AND class = $2`, subject, class).Scan(&w)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return w, wrapErr("subject key", err)
}

// PutSubjectKeyIfAbsent implements store.Store; the primary key decides
// between sidecars creating a subject's key at the same moment.
func (s *Store) PutSubjectKeyIfAbsent(ctx context.Context, subject []byte, class string, wrapped []byte) ([]byte, error) {
	if err := s.useSubject(ctx, subject); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if _, err := s.pool.Exec(ctx, `INSERT INTO pv_subject_keys (subject, class, wrapped) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, subject, class, wrapped); err != nil {
		return nil, wrapErr("subject key", err)
	}
	var w []byte
	err := s.pool.QueryRow(ctx, `SELECT wrapped FROM pv_subject_keys WHERE subject = $1 AND class = $2`, subject, class).Scan(&w)
	if errors.Is(err, pgx.ErrNoRows) {
		// Erased between the two statements.
		return nil, store.ErrNotFound
	}
	return w, wrapErr("subject key", err)
}

// subjectCursor is len(subject) | subject | class.
func subjectCursor(subject []byte, class string) []byte {
	c := binary.AppendUvarint(nil, uint64(len(subject)))
	c = append(c, subject...)
	return append(c, class...)
}

func parseCursor(c []byte) ([]byte, string, error) {
	n, k := binary.Uvarint(c)
	if k <= 0 || uint64(len(c)-k) < n {
		return nil, "", errors.New("store/postgres: bad subject key cursor")
	}
	return c[k : k+int(n)], string(c[k+int(n):]), nil
}

// SubjectKeys implements store.Store.
func (s *Store) SubjectKeys(ctx context.Context, after []byte, limit int) ([]store.SubjectKeyEntry, error) {
	if err := s.use(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var (
		rows pgx.Rows
		err  error
	)
	const cols = `SELECT subject, class, wrapped FROM pv_subject_keys`
	if after == nil {
		rows, err = s.pool.Query(ctx, cols+` ORDER BY subject, class LIMIT $1`, limit)
	} else {
		subj, class, perr := parseCursor(after)
		if perr != nil {
			return nil, perr
		}
		rows, err = s.pool.Query(ctx, cols+` WHERE subject > $1 OR (subject = $1 AND class > $2) ORDER BY subject, class LIMIT $3`, subj, class, limit)
	}
	if err != nil {
		return nil, wrapErr("subject keys", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SubjectKeyEntry, error) {
		var e store.SubjectKeyEntry
		err := row.Scan(&e.Subject, &e.Class, &e.Wrapped)
		e.Cursor = subjectCursor(e.Subject, e.Class)
		return e, err
	})
	return out, wrapErr("subject keys", err)
}

// ReplaceSubjectKey implements store.Store.
func (s *Store) ReplaceSubjectKey(ctx context.Context, subject []byte, class string, old, new []byte) error {
	if err := s.useSubject(ctx, subject); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	tag, err := s.pool.Exec(ctx, `UPDATE pv_subject_keys SET wrapped = $4 WHERE subject = $1 AND class = $2 AND wrapped = $3`, subject, class, old, new)
	if err != nil {
		return wrapErr("replace subject key", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var one int
	err = s.pool.QueryRow(ctx, `SELECT 1 FROM pv_subject_keys WHERE subject = $1 AND class = $2`, subject, class).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return wrapErr("replace subject key", err)
	}
	return store.ErrChanged
}

// SubjectRecords implements store.Store.
func (s *Store) SubjectRecords(ctx context.Context, subject []byte) ([]store.Record, error) {
	if err := s.useSubject(ctx, subject); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	rows, err := s.pool.Query(ctx, `SELECT `+recordColumns+` FROM pv_records WHERE subject = $1 ORDER BY class, id`, subject)
	if err != nil {
		return nil, wrapErr("subject records", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Record, error) { return scanRecord(row) })
	return out, wrapErr("subject records", err)
}

// EraseSubject implements store.Store: the subject's records, keys and
// consents go in one transaction, so once it returns no sidecar of the
// fleet can read them (sidecars cache neither records nor subject keys).
// PostgreSQL keeps the deleted rows as dead tuples until VACUUM, and in
// WAL and backups; the records stay unreadable there because the subject
// key that sealed them is deleted too (see docs/deployment.md).
func (s *Store) EraseSubject(ctx context.Context, subject []byte) (store.Erased, error) {
	if err := s.useSubject(ctx, subject); err != nil {
		return store.Erased{}, err
	}
	defer s.mu.RUnlock()
	var n store.Erased
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, q := range []struct {
			sql   string
			count *int
		}{
			{`DELETE FROM pv_records WHERE subject = $1`, &n.Records},
			{`DELETE FROM pv_subject_keys WHERE subject = $1`, &n.Keys},
			{`DELETE FROM pv_consents WHERE subject = $1`, &n.Consents},
		} {
			tag, err := tx.Exec(ctx, q.sql, subject)
			if err != nil {
				return err
			}
			*q.count = int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return store.Erased{}, wrapErr("erase subject", err)
	}
	n.Remains = ErasureRemains
	return n, nil
}

// ErasureRemains is the erasure receipt's statement of what PostgreSQL
// still holds after EraseSubject (docs/deployment.md, "Erasure on
// PostgreSQL: what remains").
const ErasureRemains = "PostgreSQL store: the subject's rows in pv_records, pv_subject_keys " +
	"and pv_consents were deleted in one committed transaction; no sidecar's query finds " +
	"them. Copies remain as dead tuples until VACUUM reuses their space, in the WAL until " +
	"its segments are recycled (and in WAL archives and replication slots as long as they " +
	"are kept), and in base backups taken before the erasure until they expire. Those copies " +
	"cannot be read from the database: every erased record is sealed under the subject's " +
	"own key, whose live row is deleted, and a leftover copy of that key is wrapped by the " +
	"class key held in Vault."

var _ store.DeletionStatement = (*Store)(nil)

// DeletionRemains implements store.DeletionStatement: Delete's residue is
// erasure's (dead tuples, WAL, backups), but the keys that seal the value
// stay, so the statement says who could open those copies.
func (s *Store) DeletionRemains(subject bool) string {
	if subject {
		return DeletionRemainsSubject
	}
	return DeletionRemains
}

// Statements of what PostgreSQL still holds after Delete, for deletion
// receipts (docs/deployment.md, "Erasure on PostgreSQL: what remains").
const (
	deletionResidue = "PostgreSQL store: the token's row in pv_records was deleted in a " +
		"committed transaction; no sidecar's query finds it. Copies remain as dead tuples until " +
		"VACUUM reuses their space, in the WAL until its segments are recycled (and in WAL archives " +
		"and replication slots as long as they are kept), and in base backups taken before the " +
		"deletion until they expire. "
	DeletionRemains = deletionResidue + "In those copies the value is sealed (AES-256-GCM) under " +
		"the class key held in Vault, which stays: reading one needs raw access to the copy and " +
		"that key."
	DeletionRemainsSubject = deletionResidue + "In those copies the value is sealed (AES-256-GCM) " +
		"under the data subject's own key, which stays for the subject's other records, wrapped " +
		"by the class key held in Vault: reading one needs raw access to the copy and that key; " +
		"erasing the subject deletes the subject's key."
)
