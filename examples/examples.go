// Package examples holds the sample configuration that `privacyvault serve
// --dev` embeds, and sample code that uses the sidecar.
package examples

import _ "embed"

// Config is examples/config.yaml, the complete commented sample
// configuration and the embedded default of --dev.
//
//go:embed config.yaml
var Config []byte

// ConfigName is the name config errors use for the embedded file.
const ConfigName = "examples/config.yaml (embedded)"
