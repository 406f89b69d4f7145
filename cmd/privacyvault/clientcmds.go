package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
)

// inputs returns the positional arguments, or the lines of stdin when
// there are none (so values need not appear in shell history or ps).
func inputs(args []string, stdin io.Reader) ([]string, error) {
	if len(args) > 0 {
		return args, nil
	}
	var out []string
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out, sc.Err()
}

// itemError is an item's error in JSON output.
type itemError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func itemErr(err error) *itemError {
	if err == nil {
		return nil
	}
	st, _ := status.FromError(err)
	return &itemError{Code: st.Code().String(), Message: st.Message()}
}

// tokenOut is one tokenize or lookup result in JSON output.
type tokenOut struct {
	Index int        `json:"index"`
	Token string     `json:"token"`
	Error *itemError `json:"error"`
}

func tokenizeCmd() *cobra.Command {
	return valuesCmd("tokenize", "Tokenize values of one class", "data class (required)", (*client.Client).TokenizeBatch)
}

func lookupCmd() *cobra.Command {
	return valuesCmd("lookup", "Find the existing tokens of values in a deterministic class", "deterministic data class (required)", (*client.Client).LookupBatch)
}

// valuesCmd builds a command that sends values of one class and prints one
// token per value (tokenize, lookup).
func valuesCmd(name, short, classHelp string, call func(*client.Client, context.Context, []client.TokenizeItem) ([]client.TokenResult, error)) *cobra.Command {
	var class, subject string
	cmd := &cobra.Command{
		Use:   name + " --class CLASS [VALUE ...]",
		Short: short,
		Long: short + `. Values come from the arguments, or one per line from stdin
when there are none (so they stay out of shell history and ps). One line
is printed per value: its token, or an empty line with the item's error
on stderr, so output lines stay aligned with input.`,
		Example: "  printf 'alice@example.com\\n' | privacyvault " + name + " --class email",
	}
	c := addConn(cmd)
	cmd.Flags().StringVar(&class, "class", "", classHelp)
	cmd.Flags().StringVar(&subject, "subject", "", "data subject the values belong to (links them to consents, export and erasure)")
	required(cmd, "class")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		values, err := inputs(args, cmd.InOrStdin())
		if err != nil {
			return err
		}
		cl, ctx, done, err := c.connect(cmd.Context())
		if err != nil {
			return err
		}
		defer done()
		items := make([]client.TokenizeItem, len(values))
		for i, v := range values {
			items[i] = client.TokenizeItem{Class: class, Value: []byte(v), SubjectID: subject}
		}
		res, err := call(cl, ctx, items)
		if err != nil {
			return err
		}
		return printTokens(cmd, res)
	}
	return cmd
}

func printTokens(cmd *cobra.Command, res []client.TokenResult) error {
	failed := 0
	out := struct {
		Results []tokenOut `json:"results"`
	}{Results: make([]tokenOut, len(res))}
	for i, r := range res {
		out.Results[i] = tokenOut{Index: i, Token: r.Token, Error: itemErr(r.Err)}
		if r.Err != nil {
			failed++
			if !isJSON(cmd) {
				fmt.Fprintln(cmd.ErrOrStderr(), r.Err)
			}
		}
		if !isJSON(cmd) {
			fmt.Fprintln(cmd.OutOrStdout(), r.Token)
		}
	}
	if isJSON(cmd) {
		if err := writeJSON(cmd.OutOrStdout(), out); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d items failed", failed, len(res))
	}
	return nil
}

// revealedOut is one detokenize result in JSON output. Text values are in
// value; values that are not UTF-8 text are in valueBase64 instead.
type revealedOut struct {
	Index       int        `json:"index"`
	Token       string     `json:"token"`
	Level       string     `json:"level"`
	Value       string     `json:"value"`
	ValueBase64 string     `json:"valueBase64,omitempty"`
	Error       *itemError `json:"error"`
}

func levelName(l client.Level) string {
	switch l {
	case client.Plain:
		return "plain"
	case client.Masked:
		return "masked"
	case client.Redacted:
		return "redacted"
	}
	return "unspecified"
}

// redactedLine is printed for a value policy withheld: never an empty
// line, which reads like an empty value.
const redactedLine = "[redacted]"

func detokenizeCmd() *cobra.Command {
	var class, purpose, subject string
	cmd := &cobra.Command{
		Use:   "detokenize --purpose PURPOSE --class CLASS [TOKEN ...]",
		Short: "Reveal the values behind tokens, for a declared purpose",
		Long: `Reveal the values behind tokens at the level your grant for the purpose
allows (plain, masked or redacted). Tokens come from the arguments, or one
per line from stdin. One line is printed per token; a value policy
withholds prints "` + redactedLine + `" and the command exits with status 3.`,
		Example: "  privacyvault detokenize --class email --purpose payment pvt_...",
	}
	c := addConn(cmd)
	cmd.Flags().StringVar(&class, "class", "", "data class (required)")
	cmd.Flags().StringVar(&purpose, "purpose", "", "why the values are needed, e.g. payment (required)")
	cmd.Flags().StringVar(&subject, "subject", "", "fpe classes: the subject the tokens belong to")
	required(cmd, "class", "purpose")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		tokens, err := inputs(args, cmd.InOrStdin())
		if err != nil {
			return err
		}
		cl, ctx, done, err := c.connect(cmd.Context())
		if err != nil {
			return err
		}
		defer done()
		items := make([]client.DetokenizeItem, len(tokens))
		for i, t := range tokens {
			items[i] = client.DetokenizeItem{Class: class, Token: t, SubjectID: subject}
		}
		res, err := cl.DetokenizeBatch(ctx, purpose, items)
		if err != nil {
			return err
		}
		return printRevealed(cmd, tokens, res)
	}
	return cmd
}

func printRevealed(cmd *cobra.Command, tokens []string, res []client.Revealed) error {
	failed, redacted := 0, 0
	out := struct {
		Results []revealedOut `json:"results"`
	}{Results: make([]revealedOut, len(res))}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	for i, r := range res {
		o := revealedOut{Index: i, Token: tokens[i], Level: levelName(r.Level), Error: itemErr(r.Err)}
		line := string(r.Value)
		switch {
		case r.Err != nil:
			failed++
			o.Level = ""
			line = ""
			if !isJSON(cmd) {
				fmt.Fprintln(stderr, r.Err)
			}
		case r.Level == client.Redacted:
			redacted++
			line = redactedLine
			if !isJSON(cmd) {
				fmt.Fprintf(stderr, "item %d: redacted: your grant for this purpose does not reveal this class\n", i)
			}
		case !utf8.Valid(r.Value):
			o.ValueBase64 = base64.StdEncoding.EncodeToString(r.Value)
			line = "base64:" + o.ValueBase64
		default:
			o.Value = string(r.Value)
		}
		out.Results[i] = o
		if !isJSON(cmd) {
			fmt.Fprintln(stdout, line)
		}
	}
	if isJSON(cmd) {
		if err := writeJSON(stdout, out); err != nil {
			return err
		}
	}
	switch {
	case failed > 0:
		return fmt.Errorf("%d of %d items failed", failed, len(res))
	case redacted > 0:
		return exitErr{code: exitRedacted, err: fmt.Errorf("%d of %d values redacted by policy", redacted, len(res))}
	}
	return nil
}
