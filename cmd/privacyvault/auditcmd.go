package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/client"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

func auditCmd() *cobra.Command {
	return group("audit", "Verify the audit log, export its keys, report on a subject, stream records (admins)",
		`The hash-chained audit log: verify it (live, or a copy offline), export the
keys that verify it offline, list who read a subject's data, or stream
records to a SIEM. The verifying commands exit 0 when the log verifies, 1
when it is TAMPERED and 3 when it COULD NOT BE VERIFIED (sidecar or Vault
unreachable, key file unreadable).`,
		auditVerifyCmd(), auditExportKeysCmd(), auditSubjectCmd(), auditTailCmd())
}

// verifyOut is audit verify's JSON output, the same for live and offline.
type verifyOut struct {
	OK                bool   `json:"ok"`
	Unverifiable      bool   `json:"unverifiable"`
	Events            uint64 `json:"events"`
	Checkpoints       uint64 `json:"checkpoints"`
	LastSeq           uint64 `json:"lastSeq"`
	LastCheckpointSeq uint64 `json:"lastCheckpointSeq"`
	HeadSeq           uint64 `json:"headSeq,omitempty"`  // live: the sidecar's in-memory head the log reaches
	LastHash          string `json:"lastHash,omitempty"` // offline: to compare with an anchor
	Kind              string `json:"kind,omitempty"`
	Message           string `json:"message,omitempty"`
	// Instance and Chains: with audit.sink postgres, the instance whose
	// chain has the problem, and every instance's chain.
	Instance string           `json:"instance,omitempty"`
	Chains   []*pb.AuditChain `json:"chains,omitempty"`
}

func auditVerifyCmd() *cobra.Command {
	var file, pub string
	cmd := &cobra.Command{
		Use:   "verify [--file F --public-key K]",
		Short: "Check the hash chain and signed checkpoints (of the sidecar's log, or offline of a copy)",
		Long: `Check the audit log's hash chain and signed checkpoints: the sidecar's own
log against the head it holds in memory (admins) — with audit.sink postgres
every sidecar instance's chain in the database, naming the instance of a
problem —, or offline a copy with
--file and the verification keys (<data_dir>/audit-verification-keys.pem,
or the output of audit export-keys). Exit 0 OK, 1 TAMPERED, 3 COULD NOT BE
VERIFIED.`,
		Args: noArgs,
	}
	co := addConn(cmd)
	cmd.Flags().StringVar(&file, "file", "", "an audit.log file (a copy) to check offline instead of asking the sidecar")
	cmd.Flags().StringVar(&pub, "public-key", "", "with --file: the verification keys (<data_dir>/audit-verification-keys.pem or audit export-keys)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var v verifyOut
		if file != "" {
			if pub == "" {
				return usagef("--file needs --public-key (<data_dir>/audit-verification-keys.pem, or the output of audit export-keys)")
			}
			var err error
			if v, err = verifyFile(file, pub); err != nil {
				return exitErr{code: exitUnverified, err: fmt.Errorf("audit log COULD NOT BE VERIFIED: %w", err)}
			}
		} else {
			c, ctx, done, err := co.connect(cmd.Context())
			if err != nil {
				return exitErr{code: exitUnverified, err: fmt.Errorf("audit log COULD NOT BE VERIFIED: %w", err)}
			}
			defer done()
			r, err := c.VerifyAudit(ctx)
			if err != nil {
				return exitErr{code: exitUnverified, err: fmt.Errorf("audit log COULD NOT BE VERIFIED: %w", err)}
			}
			v = verifyOut{OK: r.GetOk(), Unverifiable: r.GetUnverifiable(), Events: r.GetEvents(), Checkpoints: r.GetCheckpoints(), LastSeq: r.GetLastSeq(),
				LastCheckpointSeq: r.GetLastCheckpointSeq(), HeadSeq: r.GetHeadSeq(), Kind: r.GetKind(), Message: r.GetMessage(),
				Instance: r.GetInstance(), Chains: r.GetChains()}
		}
		if isJSON(cmd) {
			if err := writeJSON(cmd.OutOrStdout(), v); err != nil {
				return err
			}
		} else if v.OK && len(v.Chains) > 0 {
			fmt.Fprintf(cmd.OutOrStdout(), "audit trail OK: %d instance chains, %d events, %d checkpoints\n", len(v.Chains), v.Events, v.Checkpoints)
			for _, c := range v.Chains {
				fmt.Fprintf(cmd.OutOrStdout(), "  %s: %d events, last seq %d, signed through seq %d\n", c.GetInstance(), c.GetEvents(), c.GetLastSeq(), c.GetLastCheckpointSeq())
			}
		} else if v.OK {
			msg := fmt.Sprintf("audit log OK: %d events, %d checkpoints, last seq %d, signed through seq %d", v.Events, v.Checkpoints, v.LastSeq, v.LastCheckpointSeq)
			if file == "" {
				msg += fmt.Sprintf(", reaches the sidecar's head (seq %d)", v.HeadSeq)
			} else {
				msg += ", last hash " + v.LastHash
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
		}
		switch {
		case v.Unverifiable:
			return exitErr{code: exitUnverified, err: fmt.Errorf("audit log COULD NOT BE VERIFIED: %s", v.Message)}
		case !v.OK:
			return exitErr{code: exitTampered, err: fmt.Errorf("audit log TAMPERED (%s): %s", v.Kind, v.Message)}
		}
		return nil
	}
	return cmd
}

// verifyFile checks a copy of an audit log offline with the verification
// keys. A tampered or unverifiable log is a result; the error is for a
// check that could not run (unreadable file or keys).
func verifyFile(path, keysPath string) (verifyOut, error) {
	v, err := audit.LoadEd25519Verifier(keysPath)
	if err != nil {
		return verifyOut{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return verifyOut{}, err
	}
	defer f.Close()
	sum, err := audit.Verify(f, v)
	var ve *audit.VerifyError
	switch {
	case errors.As(err, &ve) && ve.Kind == audit.KindUnverifiable:
		return verifyOut{Unverifiable: true, Kind: ve.Kind, Message: err.Error()}, nil
	case errors.As(err, &ve):
		return verifyOut{Kind: ve.Kind, Message: err.Error()}, nil
	case err != nil:
		return verifyOut{}, err
	}
	return verifyOut{OK: true, Events: uint64(sum.Events), Checkpoints: uint64(sum.Checkpoints), LastSeq: sum.LastSeq,
		LastCheckpointSeq: sum.LastCheckpointSeq, LastHash: sum.LastHash}, nil
}

func auditExportKeysCmd() *cobra.Command {
	var out string
	cmd := clientCmd("export-keys [--out FILE]", "The public keys that verify checkpoints and receipts offline, Vault Transit ones too", noArgs,
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&out, "out", "", "write the keys (PEM) to this file instead of stdout")
		},
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			pemBytes, ids, err := c.ExportAuditKeys(cmd.Context())
			if err != nil {
				return err
			}
			if out != "" {
				if err := os.WriteFile(out, pemBytes, 0o644); err != nil {
					return err
				}
			}
			switch {
			case isJSON(cmd):
				return writeJSON(cmd.OutOrStdout(), map[string]any{"keyIds": ids, "pem": string(pemBytes), "file": out})
			case out == "":
				_, err = cmd.OutOrStdout().Write(pemBytes)
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %d verification keys to %s: %v\n", len(ids), out, ids)
			return err
		})
	cmd.Long = `Export the public keys that verify this sidecar's audit checkpoints and
erasure receipts (every version of the Vault Transit key, or the Ed25519
key file's) as PEM, for audit verify --file and subject verify-receipt
with the sidecar or Vault down. Admins only.`
	return cmd
}

func auditSubjectCmd() *cobra.Command {
	return clientCmd("subject SUBJECT_ID", "Who read this person's data, when, and for what purpose", exactArgs(1, "one SUBJECT_ID"), nil,
		func(cmd *cobra.Command, c *client.Client, args []string) error {
			acc, err := c.SubjectAccessReport(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if isJSON(cmd) {
				return writeJSON(cmd.OutOrStdout(), &pb.GetSubjectAccessReportResponse{Accesses: acc})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fleet := slices.ContainsFunc(acc, func(a *pb.SubjectAccess) bool { return a.GetInstance() != "" })
			head := "TIME\tCALLER\tPURPOSE\tOP\tCLASS\tITEMS\tDECISION"
			if fleet {
				head += "\tINSTANCE"
			}
			fmt.Fprintln(tw, head)
			for _, a := range acc {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s", a.GetTime().AsTime().Format(time.RFC3339), a.GetCaller(), a.GetPurpose(), a.GetOp(), a.GetClass(), a.GetCount(), a.GetDecision())
				if fleet {
					fmt.Fprintf(tw, "\t%s", a.GetInstance())
				}
				fmt.Fprintln(tw)
			}
			return tw.Flush()
		})
}

func auditTailCmd() *cobra.Command {
	var from uint64
	cmd := &cobra.Command{
		Use:   "tail [--from N]",
		Short: "Stream audit records as JSON lines for a SIEM, until interrupted",
		Long: `Stream audit records as JSON lines from a sequence number, then follow new
ones until interrupted. The output is JSON lines whatever --output says.
With audit.sink postgres it follows every sidecar instance's chain (--from
applies to each) and wraps each record as {"instance":"…","record":{…}}.`,
		Args: noArgs,
	}
	co := addConn(cmd)
	cmd.Flags().Uint64Var(&from, "from", 1, "first sequence number")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		// Tail runs until interrupted: no call timeout.
		c, err := co.dialOnly()
		if err != nil {
			return err
		}
		defer c.Close()
		err = c.TailAuditChains(cmd.Context(), from, func(instance, l string) error {
			if instance != "" {
				inst, _ := json.Marshal(instance)
				l = `{"instance":` + string(inst) + `,"record":` + l + `}`
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), l)
			return err
		})
		if status.Code(err) == codes.Canceled || errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	return cmd
}
