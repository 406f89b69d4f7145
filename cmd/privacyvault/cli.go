package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/privacyvault/privacyvault/client"
)

// Environment variables read by the client commands; flags win over them.
const (
	envAddr  = "PRIVACYVAULT_ADDR"
	envToken = "PRIVACYVAULT_TOKEN"
)

const defaultAddr = "127.0.0.1:7443"

// usageErr is a command line that cannot run: exit status 2.
type usageErr struct{ msg string }

func (e usageErr) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageErr{fmt.Sprintf(format, a...)} }

// exitErr ends the command with a given status; err, if any, is printed.
type exitErr struct {
	code int
	err  error
}

func (e exitErr) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

// isUsage reports whether err is a command-line mistake. Cobra reports
// unknown commands and missing required flags as plain errors, so those
// are recognised by their fixed wording.
func isUsage(err error) bool {
	var ue usageErr
	if errors.As(err, &ue) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"unknown command ", "required flag(s) ", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// newRoot builds the whole command tree.
func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "privacyvault",
		Short: "A privacy vault sidecar and its operator CLI",
		Long: `privacyvault is a privacy vault sidecar: it tokenizes personal data, keeps
it encrypted under keys held in HashiCorp Vault, reveals it only for a
declared purpose, and records every access in a hash-chained audit log.

"privacyvault serve" runs the sidecar; the other commands talk to a running
sidecar (--addr, env PRIVACYVAULT_ADDR; bearer token in PRIVACYVAULT_TOKEN)
or work offline on files.

Every command takes --output table|json (or --json). Exit status: 0 success,
1 error (for audit verify and verify-receipt: TAMPERED or INVALID), 2 bad
command line, 3 detokenize withheld some values by policy, or a verifying
command could not verify (sidecar or Vault unreachable).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			_, err := outputOf(cmd)
			return err
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr{err.Error()} })
	root.PersistentFlags().StringP("output", "o", "table", "output format: table or json")
	root.PersistentFlags().Bool("json", false, "shorthand for --output json")
	root.CompletionOptions.HiddenDefaultCmd = false

	root.AddCommand(
		serveCmd(),
		tokenizeCmd(), detokenizeCmd(), lookupCmd(),
		keysCmd(), auditCmd(), consentCmd(), subjectCmd(), purgeCmd(),
		healthCmd(), versionCmd(), configCmd(), policyCmd(), reportCmd(),
		genDocsCmd(),
	)
	root.Args, root.RunE = cobra.ArbitraryArgs, groupRun
	root.InitDefaultCompletionCmd()
	return root
}

// groupRun runs a command that only holds subcommands: run bare, it prints
// its help to stderr and fails as a usage error.
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	cmd.SetOut(cmd.ErrOrStderr())
	cmd.Help()
	return usagef("a command is required")
}

// group returns a command that only holds subcommands.
func group(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRun,
	}
	c.AddCommand(subs...)
	return c
}

// exactArgs, maxArgs and noArgs are cobra.PositionalArgs that fail as
// usage errors and say what was expected.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("want %s, got %d argument(s)", what, len(args))
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("takes no arguments, got %q", args)
	}
	return nil
}

// required marks flags as required (cobra reports them missing before
// the command runs).
func required(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		if err := cmd.MarkFlagRequired(n); err != nil {
			panic(err) // a programming error: the flag is not defined
		}
	}
}

// output is the --output format.
type output string

const (
	outTable output = "table"
	outJSON  output = "json"
)

func outputOf(cmd *cobra.Command) (output, error) {
	if j, _ := cmd.Flags().GetBool("json"); j {
		return outJSON, nil
	}
	o, _ := cmd.Flags().GetString("output")
	switch output(o) {
	case outTable, outJSON:
		return output(o), nil
	}
	return "", usagef("--output %q: want table or json", o)
}

func isJSON(cmd *cobra.Command) bool {
	o, _ := outputOf(cmd)
	return o == outJSON
}

// writeJSON prints v as one JSON document. Proto messages use protojson
// with every field present, so the schema does not depend on the values.
func writeJSON(w io.Writer, v any) error {
	var b []byte
	var err error
	if m, ok := v.(proto.Message); ok {
		b, err = protojsonOpts.Marshal(m)
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

var protojsonOpts = protojson.MarshalOptions{EmitUnpopulated: true}

// protoJSON returns m as a json.RawMessage, for embedding in CLI output.
func protoJSON(m proto.Message) json.RawMessage {
	b, err := protojsonOpts.Marshal(m)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// conn holds the connection flags of a client command.
type conn struct {
	flags   *pflag.FlagSet
	addr    string
	token   string
	timeout time.Duration
}

// addConn adds --addr, --token and --timeout to cmd.
func addConn(cmd *cobra.Command) *conn {
	c := &conn{flags: cmd.Flags()}
	cmd.Flags().StringVar(&c.addr, "addr", defaultAddr, "sidecar address, host:port or unix:///path (env "+envAddr+")")
	cmd.Flags().StringVar(&c.token, "token", "", "bearer token (env "+envToken+"; prefer the environment: flags show in ps)")
	cmd.Flags().DurationVar(&c.timeout, "timeout", 30*time.Second, "call timeout")
	return c
}

func (c *conn) target() string {
	if !c.flags.Changed("addr") {
		if v := os.Getenv(envAddr); v != "" {
			return v
		}
	}
	return c.addr
}

// dialOnly dials the sidecar without a call timeout (for streams that
// run until interrupted).
func (c *conn) dialOnly() (*client.Client, error) {
	tok := c.token
	if tok == "" {
		tok = os.Getenv(envToken)
	}
	return client.Dial(c.target(), client.WithInsecure(), client.WithBearerToken(tok))
}

// connect dials the sidecar and returns the client, a context bounded by
// --timeout, and a func that releases both.
func (c *conn) connect(ctx context.Context) (*client.Client, context.Context, func(), error) {
	cl, err := c.dialOnly()
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	return cl, ctx, func() { cancel(); cl.Close() }, nil
}

// pick returns the first non-empty value: flag, then environment, then
// file or default.
func pick(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
