// Package privacyvault holds the one version of the server and of every
// SDK, read from the VERSION file. The SDKs' manifests (sdk/typescript/
// package.json, sdk/python/pyproject.toml, sdk/java/pom.xml) carry the same
// string; version_test.go fails when one differs.
package privacyvault

import (
	_ "embed"
	"strings"
)

//go:embed VERSION
var version string

// Version is the release version, e.g. "0.1.0".
func Version() string { return strings.TrimSpace(version) }
