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
	"github.com/privacyvault/privacyvault/store"
)

// headStore is where an anchor keeps the head: read at start, written in
// the background.
type headStore interface {
	load(ctx context.Context) (audit.Head, bool, error)
	save(ctx context.Context, h audit.Head) error
}

// auditHeadMeta is the store meta entry holding the audit chain head.
const auditHeadMeta = "audit/head"

// storeHeads keeps the head in the store.
type storeHeads struct {
	st   store.Store
	name string
}

func (a storeHeads) load(ctx context.Context) (audit.Head, bool, error) {
	b, err := a.st.GetMeta(ctx, a.name)
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

func (a storeHeads) save(ctx context.Context, h audit.Head) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return a.st.PutMeta(ctx, a.name, b)
}

// vaultHeads keeps the head in Vault KV, out of reach of whoever can
// write the data directory.
type vaultHeads struct {
	p    audit.HeadKeeping
	name string
}

func (a vaultHeads) load(ctx context.Context) (audit.Head, bool, error) {
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

func (a vaultHeads) save(ctx context.Context, h audit.Head) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return a.p.WriteAuditHead(ctx, a.name, string(b))
}

// bgAnchor is an audit.Anchor that writes heads in the background, latest
// wins, at most one write per headInterval, so audit appends never wait for
// it: a synchronous write per batch would add a second fsync (or a Vault
// call) to every audited call, and a write per call would double the store's
// fsyncs under light load. The price is a window: after a crash (not a clean
// stop, which writes the last head) the events of the last headInterval or
// so may be unanchored.
type bgAnchor struct {
	name  string
	heads headStore
	// want selects the heads worth writing (Vault: checkpoints only).
	want func(audit.Head) bool
	log  *slog.Logger

	mu      sync.Mutex
	pending *audit.Head
	wake    chan struct{}
}

var _ audit.Anchor = (*bgAnchor)(nil)

func newBGAnchor(name string, heads headStore, want func(audit.Head) bool, log *slog.Logger) *bgAnchor {
	return &bgAnchor{name: name, heads: heads, want: want, log: log, wake: make(chan struct{}, 1)}
}

func (a *bgAnchor) Name() string { return a.name }

func (a *bgAnchor) LoadHead(ctx context.Context) (audit.Head, bool, error) {
	return a.heads.load(ctx)
}

func (a *bgAnchor) SaveHead(_ context.Context, h audit.Head) error {
	if !a.want(h) {
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

// run writes pending heads until ctx ends, then the last one. Writes use
// their own deadline, so stopping never cuts one short.
func (a *bgAnchor) run(ctx context.Context) {
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		select {
		case <-a.wake:
			a.flush()
		case <-ctx.Done():
			a.flush()
			return
		}
		// Heads that arrive meanwhile replace each other; the next write
		// takes the latest.
		pause.Reset(headInterval)
		select {
		case <-pause.C:
		case <-ctx.Done():
			a.flush()
			return
		}
	}
}

const (
	// headTimeout bounds one write of the head.
	headTimeout = 10 * time.Second
	// headInterval spaces head writes: the crash window of the anchor.
	headInterval = 50 * time.Millisecond
)

func (a *bgAnchor) flush() {
	a.mu.Lock()
	h := a.pending
	a.pending = nil
	a.mu.Unlock()
	if h == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), headTimeout)
	defer cancel()
	if err := a.heads.save(ctx, *h); err != nil {
		a.log.Warn("audit chain head not recorded; retried with the next one", "anchor", a.name, "error", err)
	}
}

// auditAnchors returns the anchors of cfg: the store (every head), and
// Vault (heads ending in a checkpoint) when the key provider is Vault.
// stop writes their last heads; call it after the audit log is closed.
func auditAnchors(cfg *config.Config, st store.Store, keys kms.Provider, log *slog.Logger) (anchors []audit.Anchor, stop func() error) {
	all := func(audit.Head) bool { return true }
	bgs := []*bgAnchor{newBGAnchor("store", storeHeads{st, auditHeadName(cfg)}, all, log)}
	if vp, ok := keys.(audit.HeadKeeping); ok {
		name := cfg.Audit.HeadName
		if name == "" {
			name = defaultHeadName(AuditDir(cfg))
		}
		checkpoints := func(h audit.Head) bool { return h.Checkpoint }
		bgs = append(bgs, newBGAnchor("vault", vaultHeads{vp, name}, checkpoints, log))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, a := range bgs {
		anchors = append(anchors, a)
		wg.Add(1)
		go func() { defer wg.Done(); a.run(ctx) }()
	}
	return anchors, func() error { cancel(); wg.Wait(); return nil }
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
