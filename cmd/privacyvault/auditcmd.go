package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

const auditUsage = `Usage: privacyvault audit COMMAND [flags]

Commands:
  verify [--file F --public-key K]  check the hash chain and signed checkpoints: of the
                                    sidecar's log against its in-memory head (admin), or
                                    offline of a copy F; exit 0 OK, 1 TAMPERED, 3 could not verify
  export-keys [--out F]             the public keys that verify checkpoints and receipts
                                    offline, also Vault Transit ones (admin)
  subject SUBJECT_ID                who read this person's data, when, for what purpose (admin)
  tail [--from N]                   stream audit records as JSON lines for a SIEM (admin)
`

func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, auditUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	file := fs.String("file", "", "verify: an audit.log file (a copy) to check offline")
	pub := fs.String("public-key", "", "verify --file: the verification keys (<data_dir>/audit-verification-keys.pem or audit export-keys)")
	outFile := fs.String("out", "", "export-keys: write the keys to this file (default stdout)")
	from := fs.Uint64("from", 1, "tail: first sequence number")
	asJSON := fs.Bool("json", false, "verify, subject: print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	out := printer{w: stdout, json: *asJSON}
	switch args[0] {
	case "verify":
		if *file != "" {
			return verifyFile(*file, *pub, stdout)
		}
		return auditVerifyLive(ctx, cf, out)
	case "export-keys":
		return auditExportKeys(ctx, cf, *outFile, stdout)
	case "subject":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "audit subject: give exactly one SUBJECT_ID")
			return errUsage
		}
		c, ctx, done, err := cf.connect(ctx)
		if err != nil {
			return err
		}
		defer done()
		acc, err := c.SubjectAccessReport(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		if *asJSON {
			return out.message(&pb.GetSubjectAccessReportResponse{Accesses: acc}, "")
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tCALLER\tPURPOSE\tOP\tCLASS\tITEMS\tDECISION")
		for _, a := range acc {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", a.GetTime().AsTime().Format(time.RFC3339), a.GetCaller(), a.GetPurpose(), a.GetOp(), a.GetClass(), a.GetCount(), a.GetDecision())
		}
		return tw.Flush()
	case "tail":
		// Tail runs until interrupted: no call timeout.
		c, err := cf.dialOnly()
		if err != nil {
			return err
		}
		defer c.Close()
		err = c.TailAudit(ctx, *from, func(l string) error {
			_, err := fmt.Fprintln(stdout, l)
			return err
		})
		if status.Code(err) == codes.Canceled || errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	fmt.Fprintf(stderr, "audit: unknown command %q\n\n%s", args[0], auditUsage)
	return errUsage
}
