package core

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/privacyvault/privacyvault/audit"
)

// Alerts (audit.Alert) are breaches worth a human's attention. Each is
// written as an audit event, logged at WARN and counted by the AlertSink.
const (
	deniedBurstLimit  = 20 // denied items per identity per window
	deniedBurstWindow = time.Minute
)

// AlertSink counts alerts and audit failures, e.g. as metrics. Labels are
// kinds only: never identities, tokens or values.
type AlertSink interface {
	Alert(kind string)
	AuditFailed()
}

type nopAlerts struct{}

func (nopAlerts) Alert(string) {}
func (nopAlerts) AuditFailed() {}

// QuotaError is a call refused because it would exceed a quota window.
type QuotaError struct {
	Per time.Duration
	Max int
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("quota exceeded: at most %d items per %s for this caller and purpose", e.Max, e.Per)
}

// raise writes an alert event, logs it at WARN and counts it.
func (s *trail) raise(ctx context.Context, kind audit.Alert, caller, purpose, class string, count int, reason string) error {
	s.alerts.Alert(string(kind))
	purpose = s.auditPurpose(purpose)
	s.reg.log.WarnContext(ctx, "privacyvault alert", "alert", kind, "caller", caller, "purpose", purpose, "class", class, "count", count, "reason", reason)
	return s.record(ctx, AuditEvent{Caller: caller, Purpose: purpose, Op: audit.OpAlert, Class: class, Count: count, Decision: audit.DecisionDeny, Reason: reason, Alert: kind})
}

// denialCounter spots bursts of denied items per identity: a caller
// probing tokens or purposes it has no grant for.
type denialCounter struct {
	mu     sync.Mutex
	window map[string]*denials
}

type denials struct {
	start   time.Time
	count   int
	alerted bool
}

// countDenials adds n denied items to caller's window and raises one
// denied-burst alert per window once the limit is passed.
func (s *trail) countDenials(ctx context.Context, caller, purpose string, n int, now time.Time) error {
	if n == 0 {
		return nil
	}
	s.denials.mu.Lock()
	if s.denials.window == nil {
		s.denials.window = map[string]*denials{}
	}
	d := s.denials.window[caller]
	if d == nil || now.Sub(d.start) >= deniedBurstWindow {
		d = &denials{start: now}
		s.denials.window[caller] = d
	}
	d.count += n
	fire := d.count > deniedBurstLimit && !d.alerted
	if fire {
		d.alerted = true
	}
	count := d.count
	s.denials.mu.Unlock()
	if !fire {
		return nil
	}
	return s.raise(ctx, audit.AlertDeniedBurst, caller, purpose, "", count, fmt.Sprintf("more than %d denied items within %s", deniedBurstLimit, deniedBurstWindow))
}
