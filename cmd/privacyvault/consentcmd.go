package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

const consentUsage = `Usage: privacyvault consent COMMAND [flags]   (subject managers and admins)

Commands:
  set    --subject ID --purpose P [--basis consent] [--expires 2027-01-01T00:00:00Z]
  revoke --subject ID --purpose P
  list   --subject ID
`

func consentCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, consentUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("consent "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	subject := fs.String("subject", "", "data subject id (required)")
	purpose := fs.String("purpose", "", "purpose (set, revoke)")
	basis := fs.String("basis", "consent", "set: GDPR Art. 6(1) lawful basis")
	expires := fs.String("expires", "", "set: RFC 3339 time the consent ends (default: never)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args[1:]); err != nil || *subject == "" {
		if err == nil {
			fmt.Fprintln(stderr, "consent: --subject is required")
		}
		return errUsage
	}
	c, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	var recs []*pb.ConsentRecord
	switch args[0] {
	case "set":
		var exp time.Time
		if *expires != "" {
			if exp, err = time.Parse(time.RFC3339, *expires); err != nil {
				return fmt.Errorf("--expires: %w", err)
			}
		}
		r, err := c.SetConsent(ctx, *subject, *purpose, *basis, exp)
		if err != nil {
			return err
		}
		recs = append(recs, r)
	case "revoke":
		r, err := c.RevokeConsent(ctx, *subject, *purpose)
		if err != nil {
			return err
		}
		recs = append(recs, r)
	case "list":
		if recs, err = c.ListConsents(ctx, *subject); err != nil {
			return err
		}
	default:
		fmt.Fprintf(stderr, "consent: unknown command %q\n\n%s", args[0], consentUsage)
		return errUsage
	}
	if *asJSON {
		return printer{w: stdout, json: true}.message(&pb.ListConsentsResponse{Consents: recs}, "")
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tPURPOSE\tBASIS\tLIVE\tGRANTED\tEXPIRES\tREVOKED")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\t%s\n", r.GetSubjectId(), r.GetPurpose(), r.GetLawfulBasis(), r.GetLive(),
			stampText(r.GetGrantedAt()), stampText(r.GetExpiresAt()), stampText(r.GetRevokedAt()))
	}
	return tw.Flush()
}

func stampText(t interface{ AsTime() time.Time }) string {
	if t == nil {
		return "-"
	}
	return t.AsTime().Format(time.RFC3339)
}
