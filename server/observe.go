package server

import (
	"context"
	"sync"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/metrics"
	"github.com/privacyvault/privacyvault/store"
)

// observer feeds core's outcomes and key refreshes to metrics and, when
// tracing is on, to spans. Span attributes are operation and declared
// class names only, never values, tokens or subjects.
type observer struct {
	m      *metrics.Registry
	tracer trace.Tracer // nil when tracing is off: no span is started at all
}

var _ core.Observer = observer{}

func (o observer) Items(oc core.Outcome, n int) { o.m.Items(oc, n) }

func (o observer) Refresh(ctx context.Context) (context.Context, func(error)) {
	ctx, end := o.span(ctx, "privacyvault.keys.refresh")
	return ctx, func(err error) {
		o.m.KeyRefresh(err)
		end(err, "key refresh failed")
	}
}

// span starts a span when tracing is on; end records the error's presence
// with a fixed description (error texts may name stored records).
func (o observer) span(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, func(error, string)) {
	if o.tracer == nil {
		return ctx, func(error, string) {}
	}
	ctx, sp := o.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	return ctx, func(err error, desc string) {
		if err != nil {
			sp.SetStatus(codes.Error, desc)
		}
		sp.End()
	}
}

// observedAuditor times each audit append and traces it.
type observedAuditor struct {
	core.Auditor
	o observer
}

func (a observedAuditor) Record(ctx context.Context, e core.AuditEvent) error {
	ctx, end := a.o.span(ctx, "privacyvault.audit.append",
		attribute.String("privacyvault.op", string(e.Op)), attribute.String("privacyvault.class", e.Class))
	start := time.Now()
	err := a.Auditor.Record(ctx, e)
	a.o.m.AuditAppend(time.Since(start))
	end(err, "audit append failed")
	return err
}

var _ core.StagedAuditor = observedAuditor{}

// Stages reports whether the wrapped auditor stages.
func (a observedAuditor) Stages() bool {
	sa, ok := a.Auditor.(core.StagedAuditor)
	return ok && sa.Stages()
}

// RecordStaged times and traces a staged append (Stages reported true):
// records and event are committed and synced together, so the one
// operation is both the store's insert commit and the audit append, and
// is reported as both.
func (a observedAuditor) RecordStaged(ctx context.Context, stage func(tx any) ([]core.AuditEvent, error)) error {
	_, endCommit := a.o.span(ctx, "privacyvault.store.commit", attribute.String("privacyvault.store.op", "insert"))
	ctx, endAppend := a.o.span(ctx, "privacyvault.audit.append", attribute.String("privacyvault.op", string(audit.OpTokenize)))
	start := time.Now()
	err := a.Auditor.(core.StagedAuditor).RecordStaged(ctx, stage)
	d := time.Since(start)
	a.o.m.AuditAppend(d)
	a.o.m.StoreCommit("insert", d)
	endAppend(err, "audit append failed")
	endCommit(err, "store commit failed")
	return err
}

// observedStore times and traces the store's durable writes; reads pass
// through untouched.
type observedStore struct {
	core.Store
	o observer
}

func (s observedStore) commit(ctx context.Context, op string) (context.Context, func(error)) {
	ctx, end := s.o.span(ctx, "privacyvault.store.commit", attribute.String("privacyvault.store.op", op))
	start := time.Now()
	return ctx, func(err error) {
		s.o.m.StoreCommit(op, time.Since(start))
		end(err, "store commit failed")
	}
}

// InsertStaged times the group commit up to durability: until the
// returned wait reports, which is when the records are synced.
func (s observedStore) InsertStaged(ctx context.Context, recs []store.Record) ([]store.Outcome, func() error, error) {
	ctx, done := s.commit(ctx, "insert")
	out, wait, err := s.Store.InsertStaged(ctx, recs)
	if err != nil {
		done(err)
		return nil, nil, err
	}
	var once sync.Once
	return out, func() error {
		err := wait()
		once.Do(func() { done(err) })
		return err
	}, nil
}

// DeletionRemains passes the store's statement for deletion receipts on
// (store.DeletionStatement; empty if the store has none).
func (s observedStore) DeletionRemains(subject bool) string {
	if d, ok := s.Store.(store.DeletionStatement); ok {
		return d.DeletionRemains(subject)
	}
	return ""
}

func (s observedStore) Replace(ctx context.Context, old, new store.Record) error {
	ctx, done := s.commit(ctx, "replace")
	err := s.Store.Replace(ctx, old, new)
	done(err)
	return err
}

func (s observedStore) PutConsent(ctx context.Context, c store.Consent) error {
	ctx, done := s.commit(ctx, "put_consent")
	err := s.Store.PutConsent(ctx, c)
	done(err)
	return err
}

func (s observedStore) EraseSubject(ctx context.Context, subject []byte) (store.Erased, error) {
	ctx, done := s.commit(ctx, "erase_subject")
	out, err := s.Store.EraseSubject(ctx, subject)
	done(err)
	return out, err
}

func (s observedStore) Rectify(ctx context.Context, old, new store.Record) error {
	ctx, done := s.commit(ctx, "rectify")
	err := s.Store.Rectify(ctx, old, new)
	done(err)
	return err
}

func (s observedStore) DeleteExpired(ctx context.Context, class string, now time.Time, limit int) (int, error) {
	ctx, done := s.commit(ctx, "delete_expired")
	n, err := s.Store.DeleteExpired(ctx, class, now, limit)
	done(err)
	return n, err
}

// grpcExemplar attaches the trace id to the call's histogram observation,
// so a slow bucket in a dashboard links to its trace.
var grpcExemplar = grpcprom.WithExemplarFromContext(func(ctx context.Context) prometheus.Labels {
	if sc := trace.SpanContextFromContext(ctx); sc.IsSampled() {
		return prometheus.Labels{"trace_id": sc.TraceID().String()}
	}
	return nil
})
