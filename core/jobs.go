package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/privacyvault/privacyvault/store"
)

// JobState is the state of a re-encryption job.
type JobState string

// Job states.
const (
	JobRunning JobState = "running"
	JobDone    JobState = "done"
	JobFailed  JobState = "failed"
)

// ReencryptStatus is the progress of moving a class's records to one key
// version. It is persisted after every page, so a restarted sidecar
// resumes where it stopped.
type ReencryptStatus struct {
	Class  string   `json:"class"`
	Target uint32   `json:"target_version"`
	State  JobState `json:"state"`
	// Total is how many records needed moving when the job started;
	// Moved is how many it has moved; Scanned how many it has looked at.
	Total   uint64    `json:"total"`
	Moved   uint64    `json:"moved"`
	Scanned uint64    `json:"scanned"`
	Error   string    `json:"error,omitempty"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	// Cursor is the last record ID handled.
	Cursor []byte `json:"cursor,omitempty"`
}

// ErrNoJob means no re-encryption job was ever started for the class.
var ErrNoJob = errors.New("no re-encryption job for this class")

type jobs struct {
	mu      sync.Mutex
	running map[string]*job
	wg      sync.WaitGroup
	base    context.Context
	stop    context.CancelFunc
	leases  Leases
}

type job struct{ done chan struct{} }

func jobKey(class string) string { return "reencrypt/" + class }

// StartReencrypt starts moving class's records to its current key version
// in the background and returns the job's first status. Calling it while
// a job runs returns that job's status.
func (s *KeyAdmin) StartReencrypt(ctx context.Context, class string) (ReencryptStatus, error) {
	c, err := s.class(class)
	if err != nil {
		return ReencryptStatus{}, err
	}
	if !c.Mode.Vaulted() && !c.ShredWithSubject {
		return ReencryptStatus{}, &PreconditionError{Reason: fmt.Sprintf("class %s uses mode %s and stores no records or subject keys", c.Name, c.Mode)}
	}
	s.jobs.mu.Lock()
	_, running := s.jobs.running[class]
	s.jobs.mu.Unlock()
	if running {
		return s.ReencryptStatus(ctx, class)
	}
	// A job another sidecar runs: report it. One whose holder is gone
	// (its lease expired, so holdJob succeeds) resumes here from its
	// saved progress.
	if prev, err := s.ReencryptStatus(ctx, class); err == nil && prev.State == JobRunning && prev.Target == c.current {
		if s.holdJob(ctx, class) {
			s.launch(prev)
		}
		return prev, nil
	}
	if !s.holdJob(ctx, class) {
		return ReencryptStatus{}, &PreconditionError{Reason: fmt.Sprintf("a re-encryption job of class %s to an earlier key version runs on another sidecar; start this one when it is done", class)}
	}
	counts, err := s.countByVersion(ctx, class)
	if err != nil {
		return ReencryptStatus{}, err
	}
	st := ReencryptStatus{Class: class, Target: c.current, State: JobRunning, Started: s.now().UTC()}
	for v, n := range counts {
		if v > 0 && v < c.current {
			st.Total += n
		}
	}
	st.Updated = st.Started
	if err := s.saveJob(ctx, st); err != nil {
		return ReencryptStatus{}, err
	}
	s.launch(st)
	return st, nil
}

// ReencryptStatus returns the last recorded status of class's job.
func (s *KeyAdmin) ReencryptStatus(ctx context.Context, class string) (ReencryptStatus, error) {
	if _, err := s.class(class); err != nil {
		return ReencryptStatus{}, err
	}
	b, err := s.store.GetMeta(ctx, jobKey(class))
	if errors.Is(err, store.ErrNotFound) {
		return ReencryptStatus{}, ErrNoJob
	}
	if err != nil {
		return ReencryptStatus{}, fmt.Errorf("core: job status: %w", err)
	}
	var st ReencryptStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return ReencryptStatus{}, fmt.Errorf("core: job status: %w", err)
	}
	return st, nil
}

// ResumeJobs restarts every job a previous process left running.
func (s *KeyAdmin) ResumeJobs(ctx context.Context) error {
	for _, name := range s.classNames() {
		st, err := s.ReencryptStatus(ctx, name)
		if errors.Is(err, ErrNoJob) {
			continue
		}
		if err != nil {
			return err
		}
		if st.State == JobRunning {
			s.log.Info("resuming re-encryption job", "class", name, "moved", st.Moved, "total", st.Total)
			s.launch(st)
		}
	}
	return nil
}

// Close stops background jobs (their progress is saved; ResumeJobs picks
// them up) and waits for them.
func (s *KeyAdmin) Close() {
	s.jobs.stop()
	s.jobs.wg.Wait()
}

func (s *KeyAdmin) launch(st ReencryptStatus) {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	if _, ok := s.jobs.running[st.Class]; ok {
		return
	}
	j := &job{done: make(chan struct{})}
	s.jobs.running[st.Class] = j
	s.jobs.wg.Add(1)
	go func() {
		defer s.jobs.wg.Done()
		defer close(j.done)
		defer func() {
			s.jobs.mu.Lock()
			delete(s.jobs.running, st.Class)
			s.jobs.mu.Unlock()
		}()
		if !s.holdJob(s.jobs.base, st.Class) {
			return // another sidecar runs it
		}
		defer s.jobs.leases.Release(context.WithoutCancel(s.jobs.base), jobKey(st.Class))
		s.runReencrypt(s.jobs.base, st)
	}()
}

func (s *KeyAdmin) runReencrypt(ctx context.Context, st ReencryptStatus) {
	for {
		page, err := s.store.Scan(ctx, st.Class, st.Cursor, scanPage)
		if err == nil {
			var moved uint64
			moved, err = s.reencryptPage(ctx, st.Class, st.Target, page)
			st.Moved += moved
		}
		if ctx.Err() != nil {
			return // stopping: the saved progress stays "running" for ResumeJobs
		}
		st.Updated = s.now().UTC()
		switch {
		case err != nil:
			st.State, st.Error = JobFailed, publicReason(err)
			s.log.Error("re-encryption job failed", "class", st.Class, "error", err)
		case len(page) == 0:
			// Records done; subject keys follow (idempotent, so a restart
			// here simply walks them again).
			var keys uint64
			if keys, err = s.rewrapSubjectKeys(ctx, st.Class, st.Target); err != nil {
				if ctx.Err() != nil {
					return
				}
				st.State, st.Error = JobFailed, publicReason(err)
				s.log.Error("re-encryption job failed", "class", st.Class, "error", err)
				break
			}
			st.State = JobDone
			s.log.Info("re-encryption job done", "class", st.Class, "moved", st.Moved, "subject_keys", keys, "target_version", st.Target)
		default:
			st.Scanned += uint64(len(page))
			st.Cursor = page[len(page)-1].ID
		}
		if err := s.saveJob(ctx, st); err != nil {
			s.log.Error("re-encryption job cannot save progress", "class", st.Class, "error", err)
			return
		}
		if st.State != JobRunning || !s.holdJob(ctx, st.Class) {
			return
		}
	}
}

// reencryptPage reseals the records of page that are below target.
func (s *KeyAdmin) reencryptPage(ctx context.Context, class string, target uint32, page []store.Record) (uint64, error) {
	var moved uint64
	for _, r := range page {
		if r.KeyVersion >= target || r.KeyVersion == 0 {
			continue // subject-sealed records do not use class key versions
		}
		ok, err := s.reseal(ctx, class, target, r)
		if err != nil {
			return moved, err
		}
		if ok {
			moved++
		}
	}
	return moved, nil
}

// reseal moves one record to target. A record changed or deleted
// concurrently is re-read once; one already at target is left alone.
func (s *KeyAdmin) reseal(ctx context.Context, class string, target uint32, r store.Record) (bool, error) {
	for attempt := 0; attempt < 2; attempt++ {
		c := s.classes[class].load()
		if _, err := c.sealer(target); err != nil {
			if c, err = s.reload(ctx, class); err != nil {
				return false, err
			}
		}
		from, err := c.sealer(r.KeyVersion)
		if err != nil {
			return false, fmt.Errorf("record under version %d: %w", r.KeyVersion, err)
		}
		to, err := c.sealer(target)
		if err != nil {
			return false, err
		}
		v, err := from.Open(r.ID, r.Ciphertext)
		if err != nil {
			return false, fmt.Errorf("record under version %d does not open: %w", r.KeyVersion, err)
		}
		next := r
		next.KeyVersion = target
		next.Ciphertext = to.Seal(r.ID, v)
		err = s.store.Replace(ctx, r, next)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, store.ErrNotFound):
			return false, nil
		case !errors.Is(err, store.ErrChanged):
			return false, err
		}
		if r, err = s.store.Get(ctx, class, r.ID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return false, nil
			}
			return false, err
		}
		if r.KeyVersion >= target {
			return false, nil
		}
	}
	return false, fmt.Errorf("record keeps changing under re-encryption")
}

func (s *KeyAdmin) saveJob(ctx context.Context, st ReencryptStatus) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	// Progress must survive the request or job context ending.
	if err := s.store.PutMeta(context.WithoutCancel(ctx), jobKey(st.Class), b); err != nil {
		return fmt.Errorf("core: save job: %w", err)
	}
	return nil
}
