package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version and commit are set by the Makefile with -ldflags -X (the build
// machines set GOFLAGS=-buildvcs=false, so the binary may carry no VCS
// stamp); when empty they come from the build info.
var (
	version = ""
	commit  = ""
)

// buildInfo is what version prints.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && b.Commit == "" {
				b.Commit = s.Value
			}
		}
	}
	b.Version = pick(b.Version, "(devel)")
	b.Commit = pick(b.Commit, "unknown")
	return b
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := currentBuild()
			if isJSON(cmd) {
				return writeJSON(cmd.OutOrStdout(), b)
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "privacyvault %s\ncommit %s\n%s %s\n", b.Version, b.Commit, b.GoVersion, b.Platform)
			return err
		},
	}
}
