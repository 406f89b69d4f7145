package server

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// healthInterval is how often the health status is recomputed.
const healthInterval = time.Second

// healthServices are the names whose status the sidecar reports: the
// whole server ("") and each of its services.
var healthServices = []string{"", pb.TokenService_ServiceDesc.ServiceName, pb.AdminService_ServiceDesc.ServiceName, pb.SubjectService_ServiceDesc.ServiceName}

// auditHealth passes events on and remembers whether the last write
// failed, so health reports an audit log that cannot be written (every
// call then fails closed).
type auditHealth struct {
	next   core.Auditor
	failed atomic.Bool
}

var _ core.Auditor = (*auditHealth)(nil)

func (a *auditHealth) Record(ctx context.Context, e core.AuditEvent) error {
	err := a.next.Record(ctx, e)
	if failed := err != nil; a.failed.Load() != failed {
		a.failed.Store(failed) // only on a change: concurrent calls need not write one shared word
	}
	return err
}

var _ core.StagedAuditor = (*auditHealth)(nil)

// Stages reports whether the next auditor stages (core.StagedAuditor).
func (a *auditHealth) Stages() bool {
	sa, ok := a.next.(core.StagedAuditor)
	return ok && sa.Stages()
}

// RecordStaged passes a staged call on (Stages reported true) and
// remembers the outcome like Record; the error of the call's own stage
// (its store insert) says nothing about the log.
func (a *auditHealth) RecordStaged(ctx context.Context, stage func(tx any) ([]core.AuditEvent, error)) error {
	var stageErr error
	err := a.next.(core.StagedAuditor).RecordStaged(ctx, func(tx any) ([]core.AuditEvent, error) {
		evs, err := stage(tx)
		stageErr = err
		return evs, err
	})
	if stageErr != nil {
		return err
	}
	if failed := err != nil; a.failed.Load() != failed {
		a.failed.Store(failed)
	}
	return err
}

// problem returns why the sidecar cannot serve now, or nil: keys past the
// grace period, or an audit log whose last write failed. While the log is
// failing it tries to write an event saying the log is writable again;
// the first that succeeds ends the outage (and records it).
func (s *Server) problem(ctx context.Context) error {
	if err := s.core.KeysFresh(); err != nil {
		return err
	}
	if s.storePing != nil {
		pctx, cancel := context.WithTimeout(ctx, healthInterval*5)
		err := s.storePing.Ping(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	if s.auditState.failed.Load() {
		ev := core.AuditEvent{Caller: "privacyvault", Op: audit.OpHealthAudit, Count: 1, Decision: audit.DecisionAllow, Reason: "audit log writable again"}
		if err := s.auditState.Record(ctx, ev); err != nil {
			return fmt.Errorf("audit log cannot be written: %w", err)
		}
	}
	return nil
}

// watchHealth sets every health status to NOT_SERVING while problem
// reports one and back to SERVING once it clears, logging each change.
func (s *Server) watchHealth(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	serving := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.problem(ctx)
		if (err == nil) == serving {
			continue
		}
		serving = err == nil
		st := healthpb.HealthCheckResponse_SERVING
		if serving {
			s.log.Info("health: serving again")
		} else {
			st = healthpb.HealthCheckResponse_NOT_SERVING
			s.log.Warn("health: not serving", "error", err)
		}
		for _, name := range healthServices {
			s.health.SetServingStatus(name, st)
		}
	}
}
