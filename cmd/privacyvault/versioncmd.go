package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/privacyvault/privacyvault/internal/version"
)

// versionCmd prints the build: release version (set at link time by
// `make image`/`make build`), VCS revision and Go version.
func versionCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	v := version.Get()
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{
			"version": v.Version, "revision": v.Revision, "modified": v.Modified, "go": v.GoVersion,
		})
	}
	rev := v.Revision
	if rev == "" {
		rev = "unknown"
	}
	if v.Modified {
		rev += "+modified"
	}
	_, err := fmt.Fprintf(stdout, "privacyvault %s (revision %s, %s)\n", v.Version, rev, v.GoVersion)
	return err
}
