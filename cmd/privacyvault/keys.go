package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/privacyvault/privacyvault/client"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

const keysUsage = `Usage: privacyvault keys COMMAND [flags]

Commands (admin identities only; connection flags --addr, --token as for tokenize):
  status                          key versions per class, current and minimum, records per version
  rotate    --class CLASS         new data-key version for new tokens; old versions stay decrypt-only
  rewrap                          re-wrap every stored data key under the newest KEK version
  reencrypt --class CLASS [--wait] move records to the current version (online, resumable)
  retire    --class CLASS --below N  set the minimum decryption version (refused while records need older ones)
  retokenize --class CLASS --from N --to M [--context C]
                                  fpe classes: read tokens from stdin, print "old<TAB>new" lines

Every command takes --json for machine-readable output.
`

func keysCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	class := fs.String("class", "", "data class")
	below := fs.Uint("below", 0, "retire: new minimum decryption version")
	wait := fs.Bool("wait", false, "reencrypt: wait until the job finishes, printing progress")
	from := fs.Uint("from", 0, "retokenize: key version the tokens were issued under")
	to := fs.Uint("to", 0, "retokenize: key version to issue new tokens under")
	tokContext := fs.String("context", "", "retokenize: the context the tokens were issued with")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	needClass := map[string]bool{"rotate": true, "reencrypt": true, "retire": true, "retokenize": true}
	if needClass[args[0]] && *class == "" {
		fmt.Fprintf(stderr, "keys %s: --class is required\n", args[0])
		return errUsage
	}
	c, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	out := printer{w: stdout, json: *asJSON}
	switch args[0] {
	case "status":
		st, err := c.KeyStatus(ctx)
		if err != nil {
			return err
		}
		return out.status(st...)
	case "rotate":
		st, err := c.RotateKey(ctx, *class)
		if err != nil {
			return err
		}
		return out.status(st)
	case "rewrap":
		n, err := c.RewrapKeys(ctx)
		if err != nil {
			return err
		}
		return out.message(&pb.RewrapKeysResponse{Rewrapped: n}, fmt.Sprintf("re-wrapped %d data-key versions under the newest KEK version", n))
	case "reencrypt":
		j, err := c.StartReencrypt(ctx, *class)
		for err == nil && *wait && j.GetState() == pb.ReencryptJob_STATE_RUNNING {
			if !*asJSON {
				fmt.Fprintf(stderr, "reencrypt %s: %d/%d moved\n", j.GetClass(), j.GetMoved(), j.GetTotal())
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
			j, err = c.Reencrypt(ctx, *class)
		}
		if err != nil {
			return err
		}
		return out.job(j)
	case "retokenize":
		tokens, err := inputs(fs, stdin)
		if err != nil {
			return err
		}
		items := make([]client.DetokenizeItem, len(tokens))
		for i, t := range tokens {
			items[i] = client.DetokenizeItem{Class: *class, Token: t, Context: *tokContext}
		}
		failed := 0
		err = c.RetokenizeFPE(ctx, *class, uint32(*from), uint32(*to), items, 1000, func(old, new string, err error) error {
			if err != nil {
				failed++
				fmt.Fprintln(stderr, err)
			}
			_, werr := fmt.Fprintf(stdout, "%s\t%s\n", old, new)
			return werr
		})
		if err == nil && failed > 0 {
			err = fmt.Errorf("%d of %d tokens failed", failed, len(items))
		}
		return err
	case "retire":
		st, err := c.RetireKeyVersions(ctx, *class, uint32(*below))
		if err != nil {
			return err
		}
		return out.status(st)
	}
	fmt.Fprintf(stderr, "keys: unknown command %q\n\n%s", args[0], keysUsage)
	return errUsage
}

// printer writes admin results as a table or as protojson lines.
type printer struct {
	w    io.Writer
	json bool
}

func (p printer) message(m proto.Message, human string) error {
	if p.json {
		b, err := protojson.Marshal(m)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(p.w, string(b))
		return err
	}
	_, err := fmt.Fprintln(p.w, human)
	return err
}

func (p printer) status(classes ...*pb.ClassKeyStatus) error {
	if p.json {
		list := make([]json.RawMessage, len(classes))
		for i, c := range classes {
			b, err := protojson.Marshal(c)
			if err != nil {
				return err
			}
			list[i] = b
		}
		b, err := json.Marshal(list)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(p.w, string(b))
		return err
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tMODE\tCURRENT\tMIN DECRYPT\tRECORDS PER VERSION\tSUBJECT KEYS PER VERSION")
	for _, c := range classes {
		var parts, keys []string
		for _, v := range c.GetVersions() {
			mark := ""
			switch {
			case v.GetCurrent():
				mark = "*"
			case v.GetRetired():
				mark = " (retired)"
			}
			parts = append(parts, fmt.Sprintf("v%d%s=%d", v.GetVersion(), mark, v.GetRecords()))
			keys = append(keys, fmt.Sprintf("v%d=%d", v.GetVersion(), v.GetSubjectKeys()))
		}
		fmt.Fprintf(tw, "%s\t%s\tv%d\tv%d\t%s\t%s\n", c.GetClass(), c.GetMode(), c.GetCurrentVersion(), c.GetMinDecryptionVersion(), strings.Join(parts, " "), strings.Join(keys, " "))
	}
	return tw.Flush()
}

func (p printer) job(j *pb.ReencryptJob) error {
	state := strings.ToLower(strings.TrimPrefix(j.GetState().String(), "STATE_"))
	human := fmt.Sprintf("reencrypt %s to v%d: %s, %d/%d moved, %d scanned", j.GetClass(), j.GetTargetVersion(), state, j.GetMoved(), j.GetTotal(), j.GetScanned())
	if j.GetError() != "" {
		human += ", error: " + j.GetError()
	}
	return p.message(j, human)
}
