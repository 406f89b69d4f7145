package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/policy"
)

func configCmd() *cobra.Command {
	return group("config", "Validate a configuration file, or show the effective configuration",
		`Offline configuration tools: validate a file before deploying it, and show
the configuration serve would run with after flags and environment.`,
		configValidateCmd(), configShowCmd())
}

// validateOut is config validate's JSON output.
type validateOut struct {
	File   string          `json:"file"`
	OK     bool            `json:"ok"`
	Errors []validateError `json:"errors"`
}

// validateError is one problem; Line and Field are empty when unknown
// (e.g. the file cannot be read).
type validateError struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
	Text    string `json:"text"` // the whole line as printed
}

func configValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a configuration file offline; every error with file:line and field path",
		Long: `Check a configuration file as serve would at start-up, without starting
anything: every problem is printed as FILE:LINE: field.path: message, e.g.
config.yaml:52: policy.grants[8].revaal: unknown field.`,
		Example: "  privacyvault config validate /etc/privacyvault/config.yaml",
		Args:    exactArgs(1, "one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := config.Load(args[0])
			out := validateOut{File: args[0], OK: err == nil, Errors: []validateError{}}
			for _, e := range errorList(err) {
				ve := validateError{Message: e.Error(), Text: e.Error()}
				var ce *config.Error
				if errors.As(e, &ce) {
					ve.Line, ve.Field, ve.Message = ce.Line, ce.Field, ce.Msg
				}
				out.Errors = append(out.Errors, ve)
			}
			if isJSON(cmd) {
				if werr := writeJSON(cmd.OutOrStdout(), out); werr != nil {
					return werr
				}
			} else if err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (%d classes, %d purposes, %d grants)\n", args[0], len(c.Classes), len(c.Policy.Purposes), len(c.Policy.Grants))
			} else {
				for _, e := range out.Errors {
					fmt.Fprintln(cmd.OutOrStdout(), e.Text)
				}
			}
			if err != nil {
				return exitErr{code: exitError, err: fmt.Errorf("%d problem(s) in %s", len(out.Errors), args[0])}
			}
			return nil
		},
	}
}

// errorList splits joined errors.
func errorList(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, errorList(e)...)
		}
		return out
	}
	return []error{err}
}

func configShowCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "show [serve flags]",
		Short: "Print the effective configuration after flags and environment, secrets redacted",
		Long: `Print the configuration serve would run with, given the same flags and
environment: the file (or the embedded sample with --dev), then
PRIVACYVAULT_* variables, then flags. Bearer tokens and honeytokens are
replaced by ` + config.RedactedMark + `. YAML by default; JSON with --output json.`,
		Example: "  PRIVACYVAULT_LISTEN=unix:///run/pv.sock privacyvault config show --config config.yaml",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := f.level(); err != nil {
				return usageErr{"--log-level: " + err.Error()}
			}
			c, _, err := f.resolve()
			if err != nil {
				return err
			}
			c = c.Redacted()
			if isJSON(cmd) {
				m, err := c.Map()
				if err != nil {
					return err
				}
				return writeJSON(cmd.OutOrStdout(), m)
			}
			b, err := c.YAML()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	f.add(cmd)
	return cmd
}

func policyCmd() *cobra.Command {
	return group("policy", "Explain policy decisions",
		`Policy tools: explain what the policy decides for an identity, purpose and
class, offline from a file or from a running sidecar.`,
		policyExplainCmd())
}

// explainOut is policy explain's JSON output, the same offline and live.
type explainOut struct {
	Identity        string `json:"identity"`
	Purpose         string `json:"purpose"`
	Class           string `json:"class"`
	Reveal          string `json:"reveal"`
	Reason          string `json:"reason"`
	Grant           string `json:"grant"`
	GrantIndex      int    `json:"grantIndex"`
	RequiresConsent bool   `json:"requiresConsent"`
	Source          string `json:"source"`
}

func policyExplainCmd() *cobra.Command {
	var identity, purpose, class, file string
	cmd := &cobra.Command{
		Use:   "explain --identity ID --purpose P --class C [--config FILE]",
		Short: "Print the decision for an identity, purpose and class, and the grant or default behind it",
		Long: `Print what the policy decides when IDENTITY detokenizes CLASS for PURPOSE:
the reveal level (plain, masked, redacted or deny), the reason, and the
grant that decided it (policy.grants[N]) or the default (deny: no grant).

With --config the file is read offline; without it the running sidecar
is asked (AdminService.ExplainPolicy; admins only), so the answer reflects
the policy it actually runs.`,
		Example: `  privacyvault policy explain --config config.yaml --identity support --purpose customer-support --class ssn
  privacyvault policy explain --identity checkout --purpose payment --class email`,
		Args: noArgs,
	}
	co := addConn(cmd)
	cmd.Flags().StringVar(&identity, "identity", "", "caller identity (required)")
	cmd.Flags().StringVar(&purpose, "purpose", "", "stated purpose (required)")
	cmd.Flags().StringVar(&class, "class", "", "data class (required)")
	cmd.Flags().StringVar(&file, "config", "", "explain offline from this configuration file instead of asking the sidecar")
	required(cmd, "identity", "purpose", "class")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		out := explainOut{Identity: identity, Purpose: purpose, Class: class}
		if file != "" {
			c, err := config.Load(file)
			if err != nil {
				return err
			}
			if !classKnown(c, class) {
				return fmt.Errorf("unknown data class %q (configured classes: %s)", class, classList(c))
			}
			pol, err := c.BuildPolicy()
			if err != nil {
				return err
			}
			e := pol.Explain(policy.Request{Identity: identity, Purpose: purpose, Class: class})
			out.Reveal, out.Reason, out.GrantIndex, out.RequiresConsent, out.Source = e.Reveal.String(), string(e.Reason), e.GrantIndex, e.RequiresConsent, file
			if e.GrantIndex >= 0 {
				out.Grant = e.Grant.String()
			}
		} else {
			cl, ctx, done, err := co.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			r, err := cl.ExplainPolicy(ctx, identity, purpose, class)
			if err != nil {
				return err
			}
			out.Reveal, out.Reason, out.Grant, out.GrantIndex, out.RequiresConsent, out.Source = r.GetReveal(), r.GetReason(), r.GetGrant(), int(r.GetGrantIndex()), r.GetRequiresConsent(), "sidecar "+co.target()
		}
		if isJSON(cmd) {
			return writeJSON(cmd.OutOrStdout(), out)
		}
		w := cmd.OutOrStdout()
		fmt.Fprintf(w, "decision: %s (%s)\n", out.Reveal, out.Reason)
		switch {
		case out.GrantIndex >= 0:
			fmt.Fprintf(w, "grant:    policy.grants[%d]: %s\n", out.GrantIndex, out.Grant)
		case out.Reason == string(policy.UnknownPurpose):
			fmt.Fprintf(w, "default:  purpose %q is not declared under policy.purposes\n", purpose)
		default:
			fmt.Fprintln(w, "default:  deny (no grant matches this identity, purpose and class)")
		}
		if out.RequiresConsent {
			fmt.Fprintln(w, "consent:  the purpose also requires the value's subject to hold a live consent")
		}
		fmt.Fprintf(w, "source:   %s\n", out.Source)
		return nil
	}
	return cmd
}

func classKnown(c *config.Config, name string) bool {
	for _, cl := range c.Classes {
		if cl.Name == name {
			return true
		}
	}
	return name == policy.Wildcard
}

func classList(c *config.Config) string {
	s := ""
	for i, cl := range c.Classes {
		if i > 0 {
			s += ", "
		}
		s += cl.Name
	}
	return s
}

func reportCmd() *cobra.Command {
	return group("report", "Compliance reports: record of processing (Art. 30), access by an identity (Art. 33-34)",
		`Compliance reports generated from the live configuration and audit log.`,
		reportProcessingCmd(), reportAccessCmd())
}

func reportProcessingCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "processing [--config FILE]",
		Short: "The GDPR Article 30 record of processing activities, from the configuration",
		Long: `Generate the record of processing activities (GDPR Art. 30) from the
configuration serve would run with: categories of personal data (classes,
descriptions, retention), purposes with lawful bases, recipients (the
identities granted each purpose, with reveal level), and the technical
safeguards (token modes, key provider, encryption, audit). Markdown by
default; JSON with --output json. Describe classes (classes[].description)
and purposes (policy.purposes[].description, lawful_basis) in the
configuration: missing ones are marked "` + config.NotStated + `".`,
		Example: "  privacyvault report processing --config config.yaml > ropa.md",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := f.resolve()
			if err != nil {
				return err
			}
			rec := c.Processing()
			if isJSON(cmd) {
				return writeJSON(cmd.OutOrStdout(), rec)
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), rec.Markdown())
			return err
		},
	}
	f.add(cmd)
	return cmd
}

// parseTime accepts RFC 3339, a date, or a duration back from now ("72h").
func parseTime(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	return parseDate(s)
}

func reportAccessCmd() *cobra.Command {
	var identity, since, until, subjects string
	cmd := clientCmd("access --identity ID --since T [--until T] [--subjects FILE]", "What an identity revealed in a window, by subject and class (breach assessment)", noArgs,
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&identity, "identity", "", "caller identity, e.g. a leaked credential's (required)")
			cmd.Flags().StringVar(&since, "since", "", "window start: RFC 3339, YYYY-MM-DD, or a duration back from now like 72h (required)")
			cmd.Flags().StringVar(&until, "until", "", "window end (default now)")
			cmd.Flags().StringVar(&subjects, "subjects", "", "file of subject ids, one per line (- for stdin): rows of these subjects are named by id")
			required(cmd, "identity", "since")
		},
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			now := time.Now()
			from, err := parseTime(since, now)
			if err != nil {
				return usagef("--since %v", err)
			}
			var to time.Time
			if until != "" {
				if to, err = parseTime(until, now); err != nil {
					return usagef("--until %v", err)
				}
			}
			ids, err := subjectIDs(subjects, cmd.InOrStdin())
			if err != nil {
				return err
			}
			rep, err := c.AccessReport(cmd.Context(), identity, from, to, ids...)
			if err != nil {
				return err
			}
			if isJSON(cmd) {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			w := cmd.OutOrStdout()
			end := "now"
			if !to.IsZero() {
				end = to.UTC().Format(time.RFC3339)
			}
			subjects := map[string]bool{}
			for _, r := range rep.GetRows() {
				subjects[r.GetSubjectFp()] = true
			}
			fmt.Fprintf(w, "identity %s, %s to %s: %d values revealed of %d subjects, %d events, %d refused\n\n",
				identity, from.UTC().Format(time.RFC3339), end, rep.GetValuesRevealed(), len(subjects), rep.GetEvents(), rep.GetDenied())
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SUBJECT\tCLASS\tPURPOSE\tVALUES\tFIRST\tLAST")
			for _, r := range rep.GetRows() {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", pick(r.GetSubjectId(), r.GetSubjectFp(), "(none)"), pick(r.GetClass(), "-"), r.GetPurpose(), r.GetValues(),
					stampText(r.GetFirst(), "-"), stampText(r.GetLast(), "-"))
			}
			return tw.Flush()
		})
	cmd.Long = `For a suspected breach (GDPR Art. 33-34): which subjects' data, and how many
values of which classes, IDENTITY revealed between --since and --until,
from the sidecar's audit log (AdminService.GetAccessReport; admins only).
Subjects are shown by their keyed fingerprint, as in the audit log, or by
id when listed in --subjects (e.g. an export of your customer ids), so the
people to notify can be named. A call that failed in part counts all its items (the log does not say
which), so the counts never undercount.`
	cmd.Example = `  privacyvault report access --identity checkout --since 72h
  privacyvault report access --identity checkout --since 2026-11-27 --until 2026-11-30 --subjects customer-ids.txt --json`
	return cmd
}

// subjectIDs reads subject ids, one per line, from path ("-" is stdin).
func subjectIDs(path string, stdin io.Reader) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var ids []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			ids = append(ids, id)
		}
	}
	return ids, sc.Err()
}
