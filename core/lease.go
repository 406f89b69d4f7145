package core

import (
	"context"
	"time"
)

// Leases make a background job run on one sidecar of a fleet sharing a
// store: a job runs only while its sidecar holds the job's lease, renewed
// after every page; a crashed holder stops renewing, and another sidecar
// takes the job over from its saved progress once the lease expires.
type Leases interface {
	// Acquire takes the lease name for ttl, or renews it for its holder;
	// false while another holder's lease is live.
	Acquire(ctx context.Context, name string, ttl time.Duration) (bool, error)
	// Release gives the lease up.
	Release(ctx context.Context, name string) error
}

// JobLeaseTTL is how long a job's lease lasts without renewal: how soon a
// crashed holder's job is taken over.
const JobLeaseTTL = 30 * time.Second

// localLeases is for a store no other sidecar shares: every lease is ours.
type localLeases struct{}

func (localLeases) Acquire(context.Context, string, time.Duration) (bool, error) { return true, nil }
func (localLeases) Release(context.Context, string) error                        { return nil }

// holdJob takes or renews class's job lease; false means another sidecar
// runs the job (or the lease store cannot be reached, so running it here
// might run it twice).
func (s *KeyAdmin) holdJob(ctx context.Context, class string) bool {
	ok, err := s.jobs.leases.Acquire(ctx, jobKey(class), JobLeaseTTL)
	if err != nil {
		s.log.Warn("re-encryption job lease unavailable", "class", class, "error", err)
	}
	return ok && err == nil
}

// ResumeJobsEvery calls ResumeJobs every interval until ctx ends, so a job
// whose holder crashed is taken over once its lease expires.
func (s *KeyAdmin) ResumeJobsEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.ResumeJobs(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("resuming re-encryption jobs failed", "error", err)
		}
	}
}
