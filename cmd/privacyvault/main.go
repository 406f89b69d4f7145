// Command privacyvault is the privacy vault sidecar and its operator CLI.
//
//	privacyvault serve [--dev] [--config FILE] [--listen ADDR] [--data-dir DIR] [--pprof ADDR] [--memory-limit SIZE]
//	privacyvault tokenize --class CLASS [VALUE ...]
//	privacyvault detokenize --purpose PURPOSE --class CLASS [TOKEN ...]
//	privacyvault lookup --class CLASS [VALUE ...]
//	privacyvault keys status|rotate|rewrap|reencrypt|retire|retokenize [flags]
//	privacyvault audit verify|subject|tail|export-keys [flags]
//	privacyvault consent set|revoke|list [flags]
//	privacyvault subject export|rectify|erase|verify-receipt [flags]
//	privacyvault purge
//	privacyvault health [--addr ADDR] [--service NAME]
//	privacyvault version [--json]
//
// The client subcommands talk to a running sidecar through package client
// only.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `privacyvault: a privacy vault sidecar

Usage:
  privacyvault serve [--dev] [--config FILE] [--listen ADDR] [--data-dir DIR] [--pprof ADDR] [--memory-limit SIZE]
  privacyvault tokenize   --class CLASS [VALUE ...]      (values from stdin if none)
  privacyvault detokenize --purpose PURPOSE --class CLASS [TOKEN ...]
  privacyvault lookup     --class CLASS [VALUE ...]
  privacyvault keys       status|rotate|rewrap|reencrypt|retire|retokenize [flags]
  privacyvault audit      verify|subject|tail|export-keys [flags]
  privacyvault consent    set|revoke|list [flags]
  privacyvault subject    export|rectify|erase|verify-receipt [flags]
  privacyvault purge      delete expired records now
  privacyvault health     [--addr ADDR] [--service NAME]   exit 0 when serving (for probes)
  privacyvault version    [--json]

Run "privacyvault COMMAND -h" for a command's flags.
`

// run executes one subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stderr)
	case "tokenize":
		err = tokenizeCmd(ctx, args[1:], stdin, stdout, stderr)
	case "detokenize":
		err = detokenizeCmd(ctx, args[1:], stdin, stdout, stderr)
	case "lookup":
		err = lookupCmd(ctx, args[1:], stdin, stdout, stderr)
	case "keys":
		err = keysCmd(ctx, args[1:], stdin, stdout, stderr)
	case "audit":
		err = auditCmd(ctx, args[1:], stdout, stderr)
	case "consent":
		err = consentCmd(ctx, args[1:], stdout, stderr)
	case "subject":
		err = subjectCmd(ctx, args[1:], stdin, stdout, stderr)
	case "purge":
		err = purgeCmd(ctx, args[1:], stdout, stderr)
	case "health":
		err = healthCmd(ctx, args[1:], stdout, stderr)
	case "version":
		err = versionCmd(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "privacyvault: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err == errUsage {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "privacyvault %s: %v\n", args[0], err)
	}
	return exitCode(err)
}
