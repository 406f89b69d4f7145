package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/privacyvault/privacyvault/client"
)

const (
	envAddr  = "PRIVACYVAULT_ADDR"
	envToken = "PRIVACYVAULT_TOKEN"
)

// clientFlags are the connection flags shared by the client subcommands.
type clientFlags struct {
	addr    *string
	token   *string
	timeout *time.Duration
}

func addClientFlags(fs *flag.FlagSet) clientFlags {
	return clientFlags{
		addr:    fs.String("addr", pick(os.Getenv(envAddr), "127.0.0.1:7443"), "sidecar address, host:port or unix:///path (env "+envAddr+")"),
		token:   fs.String("token", "", "bearer token (env "+envToken+"; prefer the environment: flags show in ps)"),
		timeout: fs.Duration("timeout", 30*time.Second, "call timeout"),
	}
}

// dialOnly dials the sidecar without a call timeout (for streams that
// run until interrupted).
func (f clientFlags) dialOnly() (*client.Client, error) {
	return client.Dial(*f.addr, client.WithInsecure(), client.WithBearerToken(pick(*f.token, os.Getenv(envToken))))
}

// connect dials the sidecar and returns the client, a context bounded by
// --timeout, and a func that releases both.
func (f clientFlags) connect(ctx context.Context) (*client.Client, context.Context, func(), error) {
	c, err := f.dialOnly()
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, *f.timeout)
	return c, ctx, func() { cancel(); c.Close() }, nil
}

// inputs returns the positional arguments, or the lines of stdin when
// there are none (so values need not appear in shell history or ps).
func inputs(fs *flag.FlagSet, stdin io.Reader) ([]string, error) {
	if fs.NArg() > 0 {
		return fs.Args(), nil
	}
	var out []string
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out, sc.Err()
}

func tokenizeCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return valuesCmd(ctx, "tokenize", "data class (required)", (*client.Client).TokenizeBatch, args, stdin, stdout, stderr)
}

func lookupCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return valuesCmd(ctx, "lookup", "deterministic data class (required)", (*client.Client).LookupBatch, args, stdin, stdout, stderr)
}

// valuesCmd runs a command that sends values of one class and prints one
// token per value (tokenize, lookup).
func valuesCmd(ctx context.Context, name, classHelp string,
	call func(*client.Client, context.Context, []client.TokenizeItem) ([]client.TokenResult, error),
	args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	class := fs.String("class", "", classHelp)
	subject := fs.String("subject", "", "data subject the values belong to (links them to consents, export and erasure)")
	if err := fs.Parse(args); err != nil || *class == "" {
		if err == nil {
			fmt.Fprintf(stderr, "%s: --class is required\n", name)
		}
		return errUsage
	}
	values, err := inputs(fs, stdin)
	if err != nil {
		return err
	}
	c, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	items := make([]client.TokenizeItem, len(values))
	for i, v := range values {
		items[i] = client.TokenizeItem{Class: *class, Value: []byte(v), SubjectID: *subject}
	}
	res, err := call(c, ctx, items)
	if err != nil {
		return err
	}
	return printTokens(stdout, stderr, res)
}

// printTokens writes one line per item: the token, or an empty line with
// the item's error on stderr, so output lines stay aligned with input.
func printTokens(stdout, stderr io.Writer, res []client.TokenResult) error {
	failed := 0
	for _, r := range res {
		if r.Err != nil {
			failed++
			fmt.Fprintln(stderr, r.Err)
		}
		fmt.Fprintln(stdout, r.Token)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d items failed", failed, len(res))
	}
	return nil
}

func detokenizeCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("detokenize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	class := fs.String("class", "", "data class (required)")
	purpose := fs.String("purpose", "", "why the values are needed, e.g. payment (required)")
	subject := fs.String("subject", "", "fpe classes: the subject the tokens belong to")
	if err := fs.Parse(args); err != nil || *class == "" || *purpose == "" {
		if err == nil {
			fmt.Fprintln(stderr, "detokenize: --class and --purpose are required")
		}
		return errUsage
	}
	tokens, err := inputs(fs, stdin)
	if err != nil {
		return err
	}
	c, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	items := make([]client.DetokenizeItem, len(tokens))
	for i, t := range tokens {
		items[i] = client.DetokenizeItem{Class: *class, Token: t, SubjectID: *subject}
	}
	res, err := c.DetokenizeBatch(ctx, *purpose, items)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range res {
		if r.Err != nil {
			failed++
			fmt.Fprintln(stderr, r.Err)
		}
		fmt.Fprintf(stdout, "%s\n", r.Value)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d items failed", failed, len(res))
	}
	return nil
}
