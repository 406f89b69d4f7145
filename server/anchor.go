package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/kms/vault"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/store/badger"
)

// auditHeadMeta is the store meta entry holding the audit chain head.
const auditHeadMeta = "audit/head"

// storeAnchor keeps the audit chain head in the store, written
// synchronously after every audit write, so any cut of acknowledged
// events is found at the next start.
type storeAnchor struct{ st *badger.Store }

var _ audit.Anchor = storeAnchor{}

func (a storeAnchor) Name() string { return "store" }

func (a storeAnchor) LoadHead(ctx context.Context) (audit.Head, bool, error) {
	b, err := a.st.GetMeta(ctx, auditHeadMeta)
	if errors.Is(err, store.ErrNotFound) {
		return audit.Head{}, false, nil
	}
	if err != nil {
		return audit.Head{}, false, err
	}
	var h audit.Head
	if err := json.Unmarshal(b, &h); err != nil {
		return audit.Head{}, false, fmt.Errorf("stored audit head is malformed: %w", err)
	}
	return h, true, nil
}

func (a storeAnchor) SaveHead(ctx context.Context, h audit.Head) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return a.st.PutMeta(ctx, auditHeadMeta, b)
}

// vaultAnchor keeps the head in Vault KV, out of reach of whoever can
// write the data directory. A Vault call per audit write would tie every
// call to Vault, so only heads ending in a checkpoint are sent, in the
// background (latest wins); the store anchor covers the events between.
type vaultAnchor struct {
	p    *vault.Provider
	name string
	log  *slog.Logger

	mu      sync.Mutex
	pending *audit.Head
	wake    chan struct{}
}

var _ audit.Anchor = (*vaultAnchor)(nil)

func newVaultAnchor(p *vault.Provider, name string, log *slog.Logger) *vaultAnchor {
	return &vaultAnchor{p: p, name: name, log: log, wake: make(chan struct{}, 1)}
}

func (a *vaultAnchor) Name() string { return "vault" }

func (a *vaultAnchor) LoadHead(ctx context.Context) (audit.Head, bool, error) {
	s, ok, err := a.p.ReadAuditHead(ctx, a.name)
	if err != nil || !ok {
		return audit.Head{}, false, err
	}
	var h audit.Head
	if err := json.Unmarshal([]byte(s), &h); err != nil {
		return audit.Head{}, false, fmt.Errorf("audit head in Vault is malformed: %w", err)
	}
	return h, true, nil
}

func (a *vaultAnchor) SaveHead(_ context.Context, h audit.Head) error {
	if !h.Checkpoint {
		return nil
	}
	a.mu.Lock()
	a.pending = &h
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return nil
}

// run writes pending heads to Vault until ctx ends, then the last one.
// Writes use their own deadline, so stopping never cuts one short.
func (a *vaultAnchor) run(ctx context.Context) {
	for {
		select {
		case <-a.wake:
			a.flush()
		case <-ctx.Done():
			a.flush()
			return
		}
	}
}

// vaultHeadTimeout bounds one write of the head to Vault.
const vaultHeadTimeout = 10 * time.Second

func (a *vaultAnchor) flush() {
	a.mu.Lock()
	h := a.pending
	a.pending = nil
	a.mu.Unlock()
	if h == nil {
		return
	}
	b, _ := json.Marshal(h)
	ctx, cancel := context.WithTimeout(context.Background(), vaultHeadTimeout)
	defer cancel()
	if err := a.p.WriteAuditHead(ctx, a.name, string(b)); err != nil {
		a.log.Warn("audit chain head not copied to Vault; retried at the next checkpoint", "error", err)
	}
}

// auditAnchors returns the anchors of cfg: the store, and Vault when the
// key provider is Vault. start runs background work until the server
// stops; stop flushes it.
func auditAnchors(cfg *config.Config, st *badger.Store, keys kms.Provider, log *slog.Logger) (anchors []audit.Anchor, stop func() error) {
	anchors = []audit.Anchor{storeAnchor{st}}
	vp, ok := keys.(*vault.Provider)
	if !ok {
		return anchors, func() error { return nil }
	}
	name := cfg.Audit.HeadName
	if name == "" {
		name = defaultHeadName(AuditDir(cfg))
	}
	va := newVaultAnchor(vp, name, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); va.run(ctx) }()
	return append(anchors, va), func() error { cancel(); <-done; return nil }
}

// defaultHeadName names a sidecar's head in Vault by host and audit
// directory, so sidecars sharing a host and a Vault do not mix their
// heads. Where host names change on every restart (Kubernetes
// Deployments) set audit.head_name to a stable name, or the Vault copy is
// never found again.
func defaultHeadName(auditDir string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "sidecar"
	}
	abs, err := filepath.Abs(auditDir)
	if err != nil {
		abs = auditDir
	}
	sum := sha256.Sum256([]byte(abs))
	return host + "-" + hex.EncodeToString(sum[:4])
}
