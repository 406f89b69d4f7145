// Package version says which build of privacyvault is running, for the
// version command and the privacyvault_build_info metric.
package version

import (
	"runtime"
	"runtime/debug"

	"github.com/privacyvault/privacyvault"
)

// version and revision are set at link time (-ldflags "-X
// .../internal/version.version=v1.2.3 -X .../internal/version.revision=abc123",
// as make build and make image do); otherwise the version is the VERSION
// file's (privacyvault.Version) and the revision what Go recorded in the
// binary.
var version, revision string

// Info identifies a build.
type Info struct {
	Version   string // release version: the link-time stamp, else the VERSION file
	Revision  string // VCS commit, "" when unknown
	Modified  bool   // built from a tree with uncommitted changes
	GoVersion string
}

// Get returns the running binary's build information.
func Get() Info {
	i := Info{Version: version, Revision: revision, GoVersion: runtime.Version()}
	if i.Version == "" {
		i.Version = privacyvault.Version()
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return i
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if i.Revision == "" {
				i.Revision = s.Value
			}
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}
