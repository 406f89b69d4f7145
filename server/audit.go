package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

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
	_, err := a.log.Append(ctx, audit.Event{
		Caller: e.Caller, Purpose: e.Purpose, Op: e.Op, Class: e.Class, Count: e.Count,
		Decision: e.Decision, Reason: e.Reason, Tokens: e.Tokens, Subject: e.Subject, Alert: e.Alert,
	})
	return err
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

func openAudit(cfg *config.Config, log *slog.Logger) (*audit.Log, error) {
	signer, err := audit.LoadOrCreateEd25519(AuditKeyFile(cfg))
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	l, err := audit.Open(AuditDir(cfg), audit.Options{
		Signer:          signer,
		CheckpointEvery: cfg.Audit.CheckpointEvery,
		OnError: func(err error) {
			log.Warn("audit log", "error", err)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return l, nil
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
