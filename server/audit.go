package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/kms"
)

// reservedKeyring holds the sidecar's own keys (audit fingerprints); its
// name cannot be a class name, which may not contain a dot.
const reservedKeyring = "privacyvault.internal"

// auditor writes core's events to the hash-chained audit log.
type auditor struct{ log *audit.Log }

var _ core.Auditor = auditor{}

func (a auditor) Record(ctx context.Context, e core.AuditEvent) error {
	_, err := a.log.Append(ctx, e)
	return err
}

var _ core.StagedAuditor = auditor{}

// Stages reports whether the log's journal is the store's (Badger), so a
// tokenize call's records and event can commit together.
func (a auditor) Stages() bool { return a.log.Stages() }

func (a auditor) RecordStaged(ctx context.Context, stage func(tx any) ([]core.AuditEvent, error)) error {
	return a.log.AppendStaged(ctx, stage)
}

// AuditDir returns where cfg keeps its audit log.
func AuditDir(cfg *config.Config) string {
	if cfg.Audit.Dir != "" {
		return cfg.Audit.Dir
	}
	return filepath.Join(cfg.Server.DataDir, "audit")
}

// AuditKeyFile returns the Ed25519 checkpoint key file of cfg.
func AuditKeyFile(cfg *config.Config) string {
	if cfg.Audit.SigningKeyFile != "" {
		return cfg.Audit.SigningKeyFile
	}
	return filepath.Join(cfg.Server.DataDir, "audit-signing.key")
}

// DefaultAuditTransitKey is the Transit key that signs audit checkpoints
// when the key provider is Vault.
const DefaultAuditTransitKey = "privacyvault-audit"

// checkpointSigner signs audit checkpoints and verifies them.
type checkpointSigner = audit.CheckpointSigner

// AuditVerificationKeysFile is where the sidecar writes, at start, the
// public keys that verify its checkpoints and receipts offline (also for
// Vault Transit signing keys; `privacyvault audit export-keys` fetches
// them at any time, including versions added since).
func AuditVerificationKeysFile(cfg *config.Config) string {
	return filepath.Join(cfg.Server.DataDir, "audit-verification-keys.pem")
}

// openSigner returns the checkpoint signer: a Vault Transit key when
// audit.transit_key is set (keys provider vault), else an Ed25519 key file.
func openSigner(ctx context.Context, cfg *config.Config, keys kms.Provider) (checkpointSigner, error) {
	sp, signs := keys.(audit.CheckpointSigning)
	if signs && cfg.Audit.SigningKeyFile == "" {
		// With Vault configured, checkpoints are signed in Vault unless a
		// key file is named explicitly.
		name := cfg.Audit.TransitKey
		if name == "" {
			name = DefaultAuditTransitKey
		}
		return sp.CheckpointSigner(ctx, name, true)
	}
	if cfg.Audit.TransitKey != "" {
		if !signs {
			return nil, fmt.Errorf("audit.transit_key needs keys.provider: vault")
		}
		return sp.CheckpointSigner(ctx, cfg.Audit.TransitKey, true)
	}
	signer, err := audit.LoadOrCreateEd25519(AuditKeyFile(cfg))
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	// The public key lets anyone verify a copy of the log offline
	// (privacyvault audit verify --file ... --public-key ...).
	if err := audit.WriteEd25519PublicKey(AuditKeyFile(cfg)+".pub", signer.Public()); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return signer, nil
}

// beforeSync, if not nil, is called before each fsync of a batch (see
// audit.Options.BeforeSync); journal, if not nil, makes events durable
// (see audit.Options.Journal).
func openAudit(ctx context.Context, cfg *config.Config, keys kms.Provider, log *slog.Logger, anchors []audit.Anchor, acceptReset bool, beforeSync func(), journal audit.Journal) (*audit.Log, checkpointSigner, error) {
	signer, err := openSigner(ctx, cfg, keys)
	if err != nil {
		return nil, nil, err
	}
	if err := audit.WriteVerificationKeys(ctx, AuditVerificationKeysFile(cfg), signer); err != nil {
		// Not fatal: export-keys fetches them later.
		log.Warn("audit verification keys not written", "error", err)
	}
	l, err := audit.Open(AuditDir(cfg), audit.Options{
		Signer:          signer,
		CheckpointEvery: cfg.Audit.CheckpointEvery,
		OnError: func(err error) {
			log.Warn("audit log", "error", err)
		},
		Anchors:     anchors,
		AcceptReset: acceptReset,
		BeforeSync:  beforeSync,
		Journal:     journal,
		// A nil journal leaves the interval unused.
		FileSyncInterval: time.Duration(cfg.Audit.FileSyncInterval),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("audit: %w", err)
	}
	if acceptReset {
		log.Warn("audit log checked with --accept-audit-log-reset: a log that does not reach the recorded chain head was accepted and the reset recorded in it")
	}
	return l, signer, nil
}

// fingerprints derives the audit fingerprint key from the sidecar's
// reserved keyring, so every sidecar sharing the key provider computes the
// same fingerprints for the same token or subject.
func fingerprints(ctx context.Context, keys kms.Provider) (*audit.Fingerprinter, error) {
	ring, err := keys.Keyring(ctx, reservedKeyring)
	if err != nil {
		return nil, fmt.Errorf("fingerprint key: %w", err)
	}
	return audit.NewFingerprinter(ring.First().Derive("audit/fingerprint/hmac-sha256"))
}

// auditReader gives AdminService read access to the audit log file.
type auditReader struct {
	path     string
	verifier audit.Verifier
	fp       *audit.Fingerprinter
	head     func() audit.Head
}

// Verify checks the file and that it reaches the head this process wrote
// (taken first: the file may have grown since, never shrunk).
func (r auditReader) Verify(ctx context.Context) (audit.Summary, audit.Head, error) {
	head := r.head()
	f, err := os.Open(r.path)
	if err != nil {
		return audit.Summary{}, head, &audit.HeadError{Kind: audit.KindBehind, Where: "running sidecar", Recorded: head}
	}
	defer f.Close()
	sum, err := audit.Verify(f, r.verifier)
	if err != nil {
		return sum, head, err
	}
	return sum, head, audit.CheckHead(f, sum, head, "running sidecar")
}

func (r auditReader) SubjectReport(ctx context.Context, subjectID string) ([]audit.Access, error) {
	f, err := os.Open(r.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return audit.SubjectReport(f, r.fp.Subject(subjectID))
}

func (r auditReader) Tail(ctx context.Context, fromSeq uint64, w io.Writer) error {
	return audit.Tail(ctx, r.path, fromSeq, w)
}
