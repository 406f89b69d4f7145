package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/audit/pgsink"
	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/internal/durable"
	"github.com/privacyvault/privacyvault/kms"
	admin "github.com/privacyvault/privacyvault/server/api/admin/v1"
	"github.com/privacyvault/privacyvault/store"
	"github.com/privacyvault/privacyvault/store/badger"
	"github.com/privacyvault/privacyvault/store/postgres"
)

// auditTrail is the configured audit sink as the server uses it.
type auditTrail struct {
	auditor core.Auditor
	reader  admin.AuditLog
	signer  checkpointSigner
	// joint: a tokenize call's records and events commit in one
	// transaction (audit.sink postgres, whose chains share the store's
	// database).
	joint bool
}

// openTrail opens the audit sink cfg names and registers its closing.
func (s *Server) openTrail(ctx context.Context, cfg *config.Config, st store.Store, keys kms.Provider, fps *audit.Fingerprinter, log *slog.Logger, acceptReset bool) (auditTrail, error) {
	if cfg.Audit.Sink == config.SinkPostgres {
		pg, ok := st.(*postgres.Store)
		if !ok {
			return auditTrail{}, errors.New("audit.sink postgres needs store.backend: postgres")
		}
		a, err := openPGAudit(ctx, cfg, pg, keys, fps, log, acceptReset)
		if err != nil {
			return auditTrail{}, err
		}
		s.close = append(s.close, a.Close)
		return auditTrail{auditor: a.sink, reader: pgAuditReader{a}, signer: a.signer, joint: true}, nil
	}
	anchors, stopAnchors := auditAnchors(cfg, st, keys, log)
	s.close = append(s.close, stopAnchors)
	// With the Badger store, a call's records and its audit event become
	// durable with one sync: the log puts its events into the store's
	// journal, whose sync covers the records committed before them, and
	// fsyncs audit.log lazily. The store syncs committed inserts only on
	// demand (a journal put, a waiter, a reader, or the log starting the
	// fsync of a batch too large for the journal, beside which the store
	// then syncs).
	var (
		storeSync func()
		journal   audit.Journal
	)
	if b, ok := st.(*badger.Store); ok {
		storeSync = b.SyncOnDemand()
		journal = b.Journal()
	}
	auditLog, signer, err := openAudit(ctx, cfg, keys, log, anchors, acceptReset, storeSync, journal)
	if err != nil {
		return auditTrail{}, err
	}
	s.close = append(s.close, auditLog.Close)
	return auditTrail{
		auditor: auditor{auditLog},
		reader:  auditReader{path: filepath.Join(AuditDir(cfg), audit.FileName), verifier: signer, fp: fps, head: auditLog.Head},
		signer:  signer,
	}, nil
}

var _ audit.Journal = (*badger.Journal)(nil)

// AuditInstanceFile is where a sidecar with audit.sink postgres and no
// audit.instance_id keeps the id of its chain, created once.
func AuditInstanceFile(cfg *config.Config) string {
	return filepath.Join(cfg.Server.DataDir, "audit-instance-id")
}

// AuditInstanceID returns the name of this sidecar's audit chain:
// audit.instance_id, or the id kept in AuditInstanceFile (created on first
// use, so a restarted sidecar continues its chain).
func AuditInstanceID(cfg *config.Config) (string, error) {
	if cfg.Audit.InstanceID != "" {
		return cfg.Audit.InstanceID, nil
	}
	path := AuditInstanceFile(cfg)
	b, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
		return "", fmt.Errorf("audit: %s is empty; delete it or set audit.instance_id", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("audit: %w", err)
	}
	var r [8]byte
	rand.Read(r[:])
	host, _ := os.Hostname()
	id := strings.Map(func(c rune) rune {
		if c < 0x21 || c > 0x7e {
			return '-'
		}
		return c
	}, host)
	if id == "" {
		id = "sidecar"
	}
	id += "-" + hex.EncodeToString(r[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("audit: %w", err)
	}
	err = durable.WriteFile(path, []byte(id+"\n"), os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return AuditInstanceID(cfg) // another process made it first
	}
	if err != nil {
		return "", fmt.Errorf("audit: writing %s: %w", path, err)
	}
	return id, nil
}

// pgAudit is the audit trail of audit.sink postgres: this sidecar's sink
// and a reader of every instance's chain.
type pgAudit struct {
	sink   *pgsink.Sink
	pool   *pgxpool.Pool // the sink's own
	signer checkpointSigner
	reader pgsink.Reader
	fp     *audit.Fingerprinter
}

// sinkConns is the size of the sink's own pool: its writer, lease
// renewal and checkpoints, apart from the store's connections (which
// tokenize calls hold while their events are committed).
const sinkConns = 3

// openPGAudit opens this sidecar's chain in the store's database.
func openPGAudit(ctx context.Context, cfg *config.Config, st *postgres.Store, keys kms.Provider, fp *audit.Fingerprinter, log *slog.Logger, acceptReset bool) (*pgAudit, error) {
	instance, err := AuditInstanceID(cfg)
	if err != nil {
		return nil, err
	}
	signer, err := openSigner(ctx, cfg, keys)
	if err != nil {
		return nil, err
	}
	if err := audit.WriteVerificationKeys(ctx, AuditVerificationKeysFile(cfg), signer); err != nil {
		log.Warn("audit verification keys not written", "error", err)
	}
	o, err := PostgresOptions(cfg)
	if err != nil {
		return nil, err
	}
	pcfg, err := postgres.Config(o)
	if err != nil {
		return nil, err
	}
	pcfg.MaxConns = sinkConns
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("audit: connecting to the database: %w", pgsink.ErrUnavailable)
	}
	var anchors []audit.Anchor
	vh, vault := keys.(audit.HeadKeeping)
	if vault {
		anchors = append(anchors, vaultAnchor{vaultHeads{vh, "audit-chain-" + instance}})
	}
	sink, err := pgsink.Open(ctx, pgsink.Options{
		Pool: pool, Instance: instance, Signer: signer,
		CheckpointEvery: cfg.Audit.CheckpointEvery,
		OnError:         func(err error) { log.Warn("audit chain", "instance", instance, "error", err) },
		Anchors:         anchors, AcceptReset: acceptReset,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("audit: %w", err)
	}
	log.Info("audit: postgres sink", "instance", instance)
	a := &pgAudit{sink: sink, pool: pool, signer: signer, fp: fp}
	a.reader = pgsink.Reader{Pool: st.Pool(), Heads: func(ctx context.Context, name string) ([]pgsink.NamedHead, error) {
		var out []pgsink.NamedHead
		if name == instance {
			out = append(out, pgsink.NamedHead{Where: "running sidecar", Head: sink.Head()})
		}
		if vault {
			h, ok, err := (vaultHeads{vh, "audit-chain-" + name}).load(ctx)
			if err != nil {
				return nil, fmt.Errorf("audit: reading the chain head in Vault: %w", err)
			}
			if ok {
				out = append(out, pgsink.NamedHead{Where: "vault", Head: h})
			}
		}
		return out, nil
	}}
	return a, nil
}

// Close signs the chain's tail and gives the chain up.
func (a *pgAudit) Close() error {
	err := a.sink.Close()
	a.pool.Close()
	return err
}

// vaultAnchor keeps the chain's checkpoint heads in Vault KV. The sink
// writes it only at checkpoints, off the path of audited calls.
type vaultAnchor struct{ heads vaultHeads }

func (v vaultAnchor) Name() string { return "vault" }
func (v vaultAnchor) LoadHead(ctx context.Context) (audit.Head, bool, error) {
	return v.heads.load(ctx)
}
func (v vaultAnchor) SaveHead(ctx context.Context, h audit.Head) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), headTimeout)
	defer cancel()
	return v.heads.save(ctx, h)
}

// Head returns this sidecar's own chain head.
func (r pgAuditReader) Head() audit.Head { return r.a.sink.Head() }

// pgAuditReader gives AdminService and SubjectService read access to every
// chain of the fleet.
type pgAuditReader struct{ a *pgAudit }

var (
	_ core.Auditor         = (*pgsink.Sink)(nil)
	_ admin.AuditLog       = pgAuditReader{}
	_ admin.ChainsVerifier = pgAuditReader{}
	_ admin.ChainsTailer   = pgAuditReader{}
)

// Verify reports the first chain with a problem (or the last chain's
// summary); VerifyChains has them all.
func (r pgAuditReader) Verify(ctx context.Context) (audit.Summary, audit.Head, error) {
	chains, err := r.VerifyChains(ctx)
	head := r.a.sink.Head()
	if err != nil {
		return audit.Summary{}, head, err
	}
	var sum audit.Summary
	for _, c := range chains {
		sum.Events += c.Summary.Events
		sum.Checkpoints += c.Summary.Checkpoints
		if c.Err != nil {
			return sum, head, c.Err
		}
	}
	return sum, head, nil
}

func (r pgAuditReader) VerifyChains(ctx context.Context) ([]admin.Chain, error) {
	res, err := r.a.reader.Verify(ctx, r.a.signer)
	if err != nil {
		return nil, err
	}
	out := make([]admin.Chain, len(res))
	for i, c := range res {
		out[i] = admin.Chain{Instance: c.Instance, Summary: c.Summary, Err: c.Err}
	}
	return out, nil
}

func (r pgAuditReader) SubjectReport(ctx context.Context, subjectID string) ([]audit.Access, error) {
	return r.a.reader.SubjectReport(ctx, r.a.fp.Subject(subjectID))
}

// Tail writes every chain's lines without saying whose; TailChains does.
func (r pgAuditReader) Tail(ctx context.Context, fromSeq uint64, w io.Writer) error {
	return r.TailChains(ctx, fromSeq, func(_ string, lines []string) error {
		_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
		return err
	})
}

func (r pgAuditReader) TailChains(ctx context.Context, fromSeq uint64, send func(instance string, lines []string) error) error {
	return r.a.reader.Tail(ctx, fromSeq, send)
}

func (r pgAuditReader) IdentityReport(ctx context.Context, identity string, since, until time.Time, subjectIDs []string) (audit.IdentityReport, error) {
	rep, err := r.a.reader.IdentityReport(ctx, identity, since, until)
	if err != nil || len(subjectIDs) == 0 {
		return rep, err
	}
	ids := make(map[string]string, len(subjectIDs))
	for _, id := range subjectIDs {
		ids[r.a.fp.Subject(id)] = id
	}
	for i := range rep.Rows {
		rep.Rows[i].SubjectID = ids[rep.Rows[i].Subject]
	}
	return rep, nil
}
