package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/privacyvault/privacyvault/client"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

func keysCmd() *cobra.Command {
	return group("keys", "Key status, rotation, re-wrapping and re-encryption (admins)",
		`Key management for admin identities: status, rotate, rewrap, reencrypt,
retire and retokenize. See docs/operations.md for the rotation runbook.`,
		keysStatusCmd(), keysRotateCmd(), keysRewrapCmd(), keysReencryptCmd(), keysRetireCmd(), keysRetokenizeCmd())
}

// adminCmd builds a keys subcommand that connects and runs fn.
func clientCmd(use, short string, args cobra.PositionalArgs, setup func(*cobra.Command), fn func(cmd *cobra.Command, c *client.Client, ctxArgs []string) error) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: args}
	co := addConn(cmd)
	if setup != nil {
		setup(cmd)
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		cl, ctx, done, err := co.connect(cmd.Context())
		if err != nil {
			return err
		}
		defer done()
		cmd.SetContext(ctx)
		return fn(cmd, cl, args)
	}
	return cmd
}

func keysStatusCmd() *cobra.Command {
	return clientCmd("status", "Key versions per class, current and minimum, records per version", noArgs, nil,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			st, err := c.KeyStatus(cmd.Context())
			if err != nil {
				return err
			}
			return printStatus(cmd, st...)
		})
}

func keysRotateCmd() *cobra.Command {
	var class string
	return clientCmd("rotate --class CLASS", "New data-key version for new tokens; old versions stay decrypt-only", noArgs,
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&class, "class", "", "data class (required)")
			required(cmd, "class")
		},
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			st, err := c.RotateKey(cmd.Context(), class)
			if err != nil {
				return err
			}
			return printStatus(cmd, st)
		})
}

func keysRewrapCmd() *cobra.Command {
	return clientCmd("rewrap", "Re-wrap every stored data key under the newest KEK version", noArgs, nil,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			n, err := c.RewrapKeys(cmd.Context())
			if err != nil {
				return err
			}
			return message(cmd, &pb.RewrapKeysResponse{Rewrapped: n}, fmt.Sprintf("re-wrapped %d data-key versions under the newest KEK version", n))
		})
}

func keysReencryptCmd() *cobra.Command {
	var class string
	var wait bool
	return clientCmd("reencrypt --class CLASS [--wait]", "Move a class's records to its current key version (online, resumable)", noArgs,
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&class, "class", "", "data class (required)")
			cmd.Flags().BoolVar(&wait, "wait", false, "wait until the job finishes, printing progress on stderr")
			required(cmd, "class")
		},
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			ctx := cmd.Context()
			j, err := c.StartReencrypt(ctx, class)
			for err == nil && wait && j.GetState() == pb.ReencryptJob_STATE_RUNNING {
				fmt.Fprintf(cmd.ErrOrStderr(), "reencrypt %s: %d/%d moved\n", j.GetClass(), j.GetMoved(), j.GetTotal())
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(500 * time.Millisecond):
				}
				j, err = c.Reencrypt(ctx, class)
			}
			if err != nil {
				return err
			}
			state := strings.ToLower(strings.TrimPrefix(j.GetState().String(), "STATE_"))
			human := fmt.Sprintf("reencrypt %s to v%d: %s, %d/%d moved, %d scanned", j.GetClass(), j.GetTargetVersion(), state, j.GetMoved(), j.GetTotal(), j.GetScanned())
			if j.GetError() != "" {
				human += ", error: " + j.GetError()
			}
			return message(cmd, j, human)
		})
}

func keysRetireCmd() *cobra.Command {
	var class string
	var below uint
	return clientCmd("retire --class CLASS --below N", "Set the minimum decryption version (refused while records need older ones)", noArgs,
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&class, "class", "", "data class (required)")
			cmd.Flags().UintVar(&below, "below", 0, "new minimum decryption version (required)")
			required(cmd, "class", "below")
		},
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			st, err := c.RetireKeyVersions(cmd.Context(), class, uint32(below))
			if err != nil {
				return err
			}
			return printStatus(cmd, st)
		})
}

// retokenizedOut is one retokenize pair in JSON output.
type retokenizedOut struct {
	Old   string     `json:"old"`
	New   string     `json:"new"`
	Error *itemError `json:"error"`
}

func keysRetokenizeCmd() *cobra.Command {
	var class, tokContext string
	var from, to uint
	cmd := clientCmd("retokenize --class CLASS --from N --to M [TOKEN ...]", "fpe classes: re-issue tokens under another key version, printing old<TAB>new", cobra.ArbitraryArgs,
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&class, "class", "", "fpe data class (required)")
			cmd.Flags().UintVar(&from, "from", 0, "key version the tokens were issued under (required)")
			cmd.Flags().UintVar(&to, "to", 0, "key version to issue new tokens under (required)")
			cmd.Flags().StringVar(&tokContext, "context", "", "the context the tokens were issued with")
			required(cmd, "class", "from", "to")
		},
		func(cmd *cobra.Command, c *client.Client, args []string) error {
			tokens, err := inputs(args, cmd.InOrStdin())
			if err != nil {
				return err
			}
			items := make([]client.DetokenizeItem, len(tokens))
			for i, t := range tokens {
				items[i] = client.DetokenizeItem{Class: class, Token: t, Context: tokContext}
			}
			failed := 0
			var pairs []retokenizedOut
			err = c.RetokenizeFPE(cmd.Context(), class, uint32(from), uint32(to), items, 1000, func(old, new string, err error) error {
				if err != nil {
					failed++
				}
				if isJSON(cmd) {
					pairs = append(pairs, retokenizedOut{Old: old, New: new, Error: itemErr(err)})
					return nil
				}
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
				}
				_, werr := fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", old, new)
				return werr
			})
			if err == nil && isJSON(cmd) {
				err = writeJSON(cmd.OutOrStdout(), struct {
					Results []retokenizedOut `json:"results"`
				}{pairs})
			}
			if err == nil && failed > 0 {
				err = fmt.Errorf("%d of %d tokens failed", failed, len(items))
			}
			return err
		})
	cmd.Long = `Re-issue fpe tokens under another key version. Tokens come from the
arguments, or one per line from stdin; "old<TAB>new" is printed per token.
FPE tokens cannot name their key version, so this (then setting the
class's key_version) is how an fpe class changes keys.`
	return cmd
}

// message prints m as JSON, or the human line.
func message(cmd *cobra.Command, m proto.Message, human string) error {
	if isJSON(cmd) {
		return writeJSON(cmd.OutOrStdout(), m)
	}
	_, err := fmt.Fprintln(cmd.OutOrStdout(), human)
	return err
}

func printStatus(cmd *cobra.Command, classes ...*pb.ClassKeyStatus) error {
	if isJSON(cmd) {
		list := make([]json.RawMessage, len(classes))
		for i, c := range classes {
			list[i] = protoJSON(c)
		}
		return writeJSON(cmd.OutOrStdout(), struct {
			Classes []json.RawMessage `json:"classes"`
		}{list})
	}
	return statusTable(cmd.OutOrStdout(), classes)
}

// statusTable prints key status. For an fpe class the version in use is
// the configured key_version, not the keyring's newest: FPE tokens cannot
// name their version, so a rotation takes effect only when key_version
// changes.
// vaulted are the modes that store records.
var vaulted = map[string]bool{"random": true, "deterministic": true}

func statusTable(w io.Writer, classes []*pb.ClassKeyStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tMODE\tCURRENT\tMIN DECRYPT\tVERSIONS\tSUBJECT KEYS PER VERSION")
	for _, c := range classes {
		current := c.GetCurrentVersion()
		fpe := c.GetMode() == "fpe" && c.GetFpeKeyVersion() > 0
		if fpe {
			current = c.GetFpeKeyVersion()
		}
		var parts, keys []string
		for _, v := range c.GetVersions() {
			keys = append(keys, fmt.Sprintf("v%d=%d", v.GetVersion(), v.GetSubjectKeys()))
			mark := ""
			switch {
			case v.GetVersion() == current:
				mark = "*"
			case v.GetRetired():
				mark = " (retired)"
			}
			if !vaulted[c.GetMode()] {
				// Nothing stored: no records to count.
				parts = append(parts, fmt.Sprintf("v%d%s", v.GetVersion(), mark))
				continue
			}
			parts = append(parts, fmt.Sprintf("v%d%s=%d", v.GetVersion(), mark, v.GetRecords()))
		}
		cur := fmt.Sprintf("v%d", current)
		if fpe && c.GetCurrentVersion() != current {
			cur += fmt.Sprintf(" (newest v%d: set key_version after keys retokenize)", c.GetCurrentVersion())
		}
		if !vaulted[c.GetMode()] && c.GetMode() != "fpe" {
			keys = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\tv%d\t%s\t%s\n", c.GetClass(), c.GetMode(), cur, c.GetMinDecryptionVersion(), strings.Join(parts, " "), strings.Join(keys, " "))
	}
	return tw.Flush()
}
