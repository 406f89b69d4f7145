package main

import (
	"context"
	"errors"
	"fmt"
	"os"
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
	return group("audit", "Verify the audit log, report on a subject, stream records (admins)",
		`The hash-chained audit log: verify it (live, or a copy offline), list who
read a subject's data, or stream records to a SIEM.`,
		auditVerifyCmd(), auditSubjectCmd(), auditTailCmd())
}

// verifyOut is audit verify's JSON output, the same for live and offline.
type verifyOut struct {
	OK                bool   `json:"ok"`
	Events            uint64 `json:"events"`
	Checkpoints       uint64 `json:"checkpoints"`
	LastSeq           uint64 `json:"lastSeq"`
	LastCheckpointSeq uint64 `json:"lastCheckpointSeq"`
	Kind              string `json:"kind,omitempty"`
	Message           string `json:"message,omitempty"`
}

func auditVerifyCmd() *cobra.Command {
	var file, pub string
	cmd := &cobra.Command{
		Use:   "verify [--file F --public-key K]",
		Short: "Check the hash chain and signed checkpoints (of the sidecar's log, or offline of a copy)",
		Args:  noArgs,
	}
	co := addConn(cmd)
	cmd.Flags().StringVar(&file, "file", "", "an audit.log file (a copy) to check offline instead of asking the sidecar")
	cmd.Flags().StringVar(&pub, "public-key", "", "with --file: the checkpoint public key (<data_dir>/audit-signing.key.pub)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var v verifyOut
		if file != "" {
			var err error
			if v, err = verifyFile(file, pub); err != nil {
				return err
			}
		} else {
			c, ctx, done, err := co.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			r, err := c.VerifyAudit(ctx)
			if err != nil {
				return err
			}
			v = verifyOut{OK: r.GetOk(), Events: r.GetEvents(), Checkpoints: r.GetCheckpoints(), LastSeq: r.GetLastSeq(),
				LastCheckpointSeq: r.GetLastCheckpointSeq(), Kind: r.GetKind(), Message: r.GetMessage()}
		}
		if isJSON(cmd) {
			if err := writeJSON(cmd.OutOrStdout(), v); err != nil {
				return err
			}
		} else if v.OK {
			fmt.Fprintf(cmd.OutOrStdout(), "audit log OK: %d events, %d checkpoints, last seq %d, signed through seq %d\n", v.Events, v.Checkpoints, v.LastSeq, v.LastCheckpointSeq)
		}
		if !v.OK {
			return fmt.Errorf("audit log TAMPERED (%s): %s", v.Kind, v.Message)
		}
		return nil
	}
	return cmd
}

// verifyFile checks a copy of an audit log offline with the public key. A
// tampered log is a result, not an error.
func verifyFile(path, pubPath string) (verifyOut, error) {
	if pubPath == "" {
		return verifyOut{}, usagef("--file needs --public-key (the sidecar writes <data_dir>/audit-signing.key.pub)")
	}
	v, err := audit.LoadEd25519Verifier(pubPath)
	if err != nil {
		return verifyOut{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return verifyOut{}, err
	}
	defer f.Close()
	sum, err := audit.Verify(f, v)
	if err != nil {
		return verifyOut{Kind: "tampered", Message: err.Error()}, nil
	}
	return verifyOut{OK: true, Events: uint64(sum.Events), Checkpoints: uint64(sum.Checkpoints), LastSeq: sum.LastSeq, LastCheckpointSeq: sum.LastCheckpointSeq}, nil
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
			fmt.Fprintln(tw, "TIME\tCALLER\tPURPOSE\tOP\tCLASS\tITEMS\tDECISION")
			for _, a := range acc {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", a.GetTime().AsTime().Format(time.RFC3339), a.GetCaller(), a.GetPurpose(), a.GetOp(), a.GetClass(), a.GetCount(), a.GetDecision())
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
ones until interrupted. The output is JSON lines whatever --output says.`,
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
		err = c.TailAudit(cmd.Context(), from, func(l string) error {
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
