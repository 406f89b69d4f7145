package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

const subjectUsage = `Usage: privacyvault subject COMMAND [flags]   (subject managers and admins)

Commands:
  export SUBJECT_ID                 every stored token and value (at your dsar grant's level), as JSON
  rectify --class C --rectify-token T   replace the value behind a vaulted token (new value on stdin)
  erase SUBJECT_ID [--receipt F]    crypto-shred the subject; prints (or writes) the signed receipt
  verify-receipt --receipt F --public-key K   check an erasure receipt offline (K: audit export-keys);
                                    exit 0 valid, 1 invalid, 3 could not be checked
`

func subjectCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, subjectUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("subject "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	class := fs.String("class", "", "rectify: data class")
	// Not --token: that is the bearer token of every client command.
	token := fs.String("rectify-token", "", "rectify: the token to keep")
	receipt := fs.String("receipt", "", "erase: write the receipt to this file; verify-receipt: the receipt file")
	pub := fs.String("public-key", "", "verify-receipt: the audit verification keys (<data_dir>/audit-verification-keys.pem or audit export-keys)")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if args[0] == "verify-receipt" {
		return verifyReceipt(*receipt, *pub, stdout)
	}
	c, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	switch args[0] {
	case "export":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "subject export: give exactly one SUBJECT_ID")
			return errUsage
		}
		toks, err := c.ExportSubject(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		return printer{w: stdout, json: true}.message(&pb.ExportSubjectResponse{Tokens: toks}, "")
	case "rectify":
		if *class == "" || *token == "" {
			fmt.Fprintln(stderr, "subject rectify: --class and --rectify-token are required; the new value is read from stdin")
			return errUsage
		}
		value, err := readValue(stdin)
		if err != nil {
			return err
		}
		if err := c.RectifyToken(ctx, *class, *token, value); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "rectified: the token now resolves to the new value")
		return nil
	case "erase":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "subject erase: give exactly one SUBJECT_ID")
			return errUsage
		}
		r, err := c.EraseSubject(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(receiptOf(r), "", "  ")
		if err != nil {
			return err
		}
		if *receipt != "" {
			if err := os.WriteFile(*receipt, append(b, '\n'), 0o600); err != nil {
				return err
			}
		}
		_, err = fmt.Fprintln(stdout, string(b))
		return err
	}
	fmt.Fprintf(stderr, "subject: unknown command %q\n\n%s", args[0], subjectUsage)
	return errUsage
}

// readValue reads one value from stdin, without its trailing newline.
func readValue(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, errors.New("no value on stdin")
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	if !sc.Scan() {
		if sc.Err() != nil {
			return nil, sc.Err()
		}
		return nil, errors.New("no value on stdin")
	}
	return []byte(sc.Text()), nil
}

func purgeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	c, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	n, err := c.PurgeExpired(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		b, _ := protojson.Marshal(&pb.PurgeExpiredResponse{Deleted: n})
		_, err := fmt.Fprintln(stdout, string(b))
		return err
	}
	total := uint64(0)
	for class, v := range n {
		total += v
		if v > 0 {
			fmt.Fprintf(stdout, "%s: %d expired records deleted\n", class, v)
		}
	}
	fmt.Fprintf(stdout, "purge: %d expired records deleted\n", total)
	return nil
}
