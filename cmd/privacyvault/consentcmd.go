package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privacyvault/privacyvault/client"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

func consentCmd() *cobra.Command {
	return group("consent", "Record, revoke and list a data subject's consents (subject managers, admins)",
		`Consent records of data subjects, for purposes that require consent
(policy.purposes[].requires_consent).`,
		consentSetCmd(), consentRevokeCmd(), consentListCmd())
}

// parseDate accepts RFC 3339 or a plain date (YYYY-MM-DD, midnight UTC).
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2027-12-31T00:00:00Z) or a date (2027-12-31)", s)
}

func consentSetCmd() *cobra.Command {
	var subject, purpose, basis, expires string
	return clientCmd("set --subject ID --purpose P [--basis consent] [--expires DATE]", "Record a subject's consent to a purpose", noArgs,
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&subject, "subject", "", "data subject id (required)")
			cmd.Flags().StringVar(&purpose, "purpose", "", "a declared purpose that requires consent (required)")
			cmd.Flags().StringVar(&basis, "basis", "consent", "GDPR Art. 6(1) lawful basis")
			cmd.Flags().StringVar(&expires, "expires", "", "when the consent ends: RFC 3339 or YYYY-MM-DD (default: never)")
			required(cmd, "subject", "purpose")
		},
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			var exp time.Time
			if expires != "" {
				var err error
				if exp, err = parseDate(expires); err != nil {
					return usagef("--expires %v", err)
				}
			}
			r, err := c.SetConsent(cmd.Context(), subject, purpose, basis, exp)
			if err != nil {
				return err
			}
			return printConsents(cmd, r)
		})
}

func consentRevokeCmd() *cobra.Command {
	var subject, purpose string
	return clientCmd("revoke --subject ID --purpose P", "Revoke a consent; it takes effect for the next call", noArgs,
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&subject, "subject", "", "data subject id (required)")
			cmd.Flags().StringVar(&purpose, "purpose", "", "purpose (required)")
			required(cmd, "subject", "purpose")
		},
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			r, err := c.RevokeConsent(cmd.Context(), subject, purpose)
			if err != nil {
				return err
			}
			return printConsents(cmd, r)
		})
}

func consentListCmd() *cobra.Command {
	var subject string
	return clientCmd("list --subject ID", "List a subject's consent records, live or not", noArgs,
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&subject, "subject", "", "data subject id (required)")
			required(cmd, "subject")
		},
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			recs, err := c.ListConsents(cmd.Context(), subject)
			if err != nil {
				return err
			}
			return printConsents(cmd, recs...)
		})
}

func printConsents(cmd *cobra.Command, recs ...*pb.ConsentRecord) error {
	if isJSON(cmd) {
		list := make([]json.RawMessage, len(recs))
		for i, r := range recs {
			list[i] = protoJSON(r)
		}
		return writeJSON(cmd.OutOrStdout(), struct {
			Consents []json.RawMessage `json:"consents"`
		}{list})
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tPURPOSE\tBASIS\tLIVE\tGRANTED\tEXPIRES\tREVOKED")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\t%s\n", r.GetSubjectId(), r.GetPurpose(), r.GetLawfulBasis(), r.GetLive(),
			stampText(r.GetGrantedAt(), "-"), stampText(r.GetExpiresAt(), "never"), stampText(r.GetRevokedAt(), "never"))
	}
	return tw.Flush()
}

// stampText formats an optional timestamp; absent (or zero) is none.
func stampText(t *timestamppb.Timestamp, none string) string {
	if t == nil || (t.GetSeconds() == 0 && t.GetNanos() == 0) {
		return none
	}
	return t.AsTime().UTC().Format(time.RFC3339)
}
