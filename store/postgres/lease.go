package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Leases hands out named leases with an expiry, kept in the database, so a
// background job runs on one sidecar of the fleet at a time and is taken
// over when its holder stops renewing (crashed). Expiry is measured on the
// database's clock, so sidecars' clocks need not agree.
type Leases struct {
	s      *Store
	holder string
}

// NewLeases returns leases held in s's database under the name holder,
// which must be stable and unique per sidecar.
func NewLeases(s *Store, holder string) *Leases { return &Leases{s: s, holder: holder} }

// nowNanos is the database clock in Unix nanoseconds (PostgreSQL,
// CockroachDB and YugabyteDB all accept it).
const nowNanos = `(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000000)::BIGINT`

// Acquire takes the lease name for ttl, or renews it if this holder has
// it; it reports false while another holder's lease is live.
func (l *Leases) Acquire(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	if err := l.s.use(ctx); err != nil {
		return false, err
	}
	defer l.s.mu.RUnlock()
	var holder string
	err := l.s.pool.QueryRow(ctx, `
INSERT INTO pv_leases (name, holder, expires_at) VALUES ($1, $2, `+nowNanos+` + $3)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE pv_leases.holder = excluded.holder OR pv_leases.expires_at < `+nowNanos+`
RETURNING holder`, name, l.holder, ttl.Nanoseconds()).Scan(&holder)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrapErr("lease", err)
	}
	return true, nil
}

// Release gives the lease up if this holder has it.
func (l *Leases) Release(ctx context.Context, name string) error {
	if err := l.s.use(ctx); err != nil {
		return err
	}
	defer l.s.mu.RUnlock()
	_, err := l.s.pool.Exec(ctx, `DELETE FROM pv_leases WHERE name = $1 AND holder = $2`, name, l.holder)
	return wrapErr("lease", err)
}
