package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// Exit codes of the verifying commands (audit verify, subject
// verify-receipt). 1 is also every other command's failure; 2 is usage.
const (
	exitTampered   = 1 // the log or receipt does not verify: tampered
	exitUnverified = 3 // it could not be checked (sidecar or Vault unreachable, key file unreadable)
)

// exitError carries a command's exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func tampered(format string, args ...any) error {
	return &exitError{exitTampered, fmt.Errorf(format, args...)}
}

func unverified(format string, args ...any) error {
	return &exitError{exitUnverified, fmt.Errorf(format, args...)}
}

// exitCode returns the exit code for err (nil: 0).
func exitCode(err error) int {
	var e *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &e):
		return e.code
	}
	return 1
}

// auditVerifyLive asks the running sidecar to verify its log against the
// head it holds in memory.
func auditVerifyLive(ctx context.Context, cf clientFlags, out printer) error {
	c, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return unverified("audit log COULD NOT BE VERIFIED: %w", err)
	}
	defer done()
	r, err := c.VerifyAudit(ctx)
	if err != nil {
		return unverified("audit log COULD NOT BE VERIFIED: %w", err)
	}
	human := fmt.Sprintf("audit log OK: %d events, %d checkpoints, last seq %d, signed through seq %d, reaches the sidecar's head (seq %d)",
		r.GetEvents(), r.GetCheckpoints(), r.GetLastSeq(), r.GetLastCheckpointSeq(), r.GetHeadSeq())
	switch {
	case r.GetUnverifiable():
		human = "audit log COULD NOT BE VERIFIED: " + r.GetMessage()
	case !r.GetOk():
		human = fmt.Sprintf("audit log TAMPERED (%s): %s", r.GetKind(), r.GetMessage())
	}
	if err := out.message(r, human); err != nil {
		return err
	}
	switch {
	case r.GetUnverifiable():
		return unverified("audit verification incomplete")
	case !r.GetOk():
		return tampered("audit verification failed")
	}
	return nil
}

// verifyFile checks a copy of an audit log offline with the verification
// keys (the sidecar's audit-verification-keys.pem, `audit export-keys`, or
// the Ed25519 audit-signing.key.pub).
func verifyFile(path, keysPath string, stdout io.Writer) error {
	if keysPath == "" {
		return &exitError{2, errors.New("--file needs --public-key (<data_dir>/audit-verification-keys.pem, or the output of audit export-keys)")}
	}
	v, err := audit.LoadEd25519Verifier(keysPath)
	if err != nil {
		return unverified("audit log COULD NOT BE VERIFIED: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return unverified("audit log COULD NOT BE VERIFIED: %w", err)
	}
	defer f.Close()
	sum, err := audit.Verify(f, v)
	var ve *audit.VerifyError
	switch {
	case errors.As(err, &ve) && ve.Kind == audit.KindUnverifiable:
		return unverified("audit log COULD NOT BE VERIFIED: %w", err)
	case errors.As(err, &ve):
		return tampered("audit log TAMPERED: %w", err)
	case err != nil:
		return unverified("audit log COULD NOT BE VERIFIED: %w", err)
	}
	fmt.Fprintf(stdout, "audit log OK: %d events, %d checkpoints, last seq %d, signed through seq %d, last hash %s\n",
		sum.Events, sum.Checkpoints, sum.LastSeq, sum.LastCheckpointSeq, sum.LastHash)
	return nil
}

// auditExportKeys writes the sidecar's verification keys to path, or to
// stdout when path is empty.
func auditExportKeys(ctx context.Context, cf clientFlags, path string, stdout io.Writer) error {
	c, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	pemBytes, ids, err := c.ExportAuditKeys(ctx)
	if err != nil {
		return err
	}
	if path == "" {
		_, err := stdout.Write(pemBytes)
		return err
	}
	if err := os.WriteFile(path, pemBytes, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d verification keys to %s: %v\n", len(ids), path, ids)
	return nil
}

func receiptOf(r *pb.ErasureReceipt) audit.Receipt {
	return audit.Receipt{
		Subject: r.GetSubjectFp(), ErasedAt: r.GetErasedAt().AsTime(), Records: int(r.GetRecords()),
		Keys: int(r.GetSubjectKeys()), Consents: int(r.GetConsents()), KeyID: r.GetKeyId(), Signature: r.GetSignature(),
	}
}

// verifyReceipt checks an erasure receipt offline with the verification
// keys.
func verifyReceipt(path, keysPath string, stdout io.Writer) error {
	if path == "" || keysPath == "" {
		return &exitError{2, errors.New("verify-receipt needs --receipt and --public-key")}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return unverified("receipt COULD NOT BE VERIFIED: %w", err)
	}
	var r audit.Receipt
	if err := json.Unmarshal(b, &r); err != nil {
		return tampered("receipt INVALID: %w", err)
	}
	v, err := audit.LoadEd25519Verifier(keysPath)
	if err != nil {
		return unverified("receipt COULD NOT BE VERIFIED: %w", err)
	}
	if err := audit.VerifyReceipt(r, v); err != nil {
		if errors.Is(err, audit.ErrVerifierUnavailable) {
			return unverified("receipt COULD NOT BE VERIFIED: %w", err)
		}
		return tampered("receipt INVALID: %w", err)
	}
	fmt.Fprintf(stdout, "receipt OK: subject %s erased at %s (%d records, %d subject keys, %d consents), signed by %s\n",
		r.Subject, r.ErasedAt.Format(time.RFC3339), r.Records, r.Keys, r.Consents, r.KeyID)
	return nil
}
