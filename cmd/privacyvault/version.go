package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/privacyvault/privacyvault/internal/version"
)

// buildInfo is what version prints; the JSON field names are stable.
type buildInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision"`
	Modified bool   `json:"modified"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// versionCmd prints the build: release version and revision (stamped by
// make build with -ldflags -X, since the build machines set
// GOFLAGS=-buildvcs=false; otherwise what Go recorded), and Go version.
func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, revision and Go version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := version.Get()
			b := buildInfo{Version: v.Version, Revision: v.Revision, Modified: v.Modified, Go: v.GoVersion, Platform: runtime.GOOS + "/" + runtime.GOARCH}
			if isJSON(cmd) {
				return writeJSON(cmd.OutOrStdout(), b)
			}
			rev := pick(b.Revision, "unknown")
			if b.Modified {
				rev += "+modified"
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "privacyvault %s (revision %s, %s %s)\n", b.Version, rev, b.Go, b.Platform)
			return err
		},
	}
}
