package config_test

import (
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/examples"
)

// FuzzParse: Parse never panics; every error names the file; a
// configuration it accepts builds its policy without panicking.
func FuzzParse(f *testing.F) {
	f.Add(examples.Config)
	f.Add([]byte("classes:\n  - name: email\n    mode: sometimes\n"))
	f.Add([]byte("server: [1, 2\n"))
	f.Add([]byte("policy:\n  honeytokens:\n    - class: card\n      token: x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("Parse error %q does not name the file", err)
			}
			return
		}
		_, _ = c.BuildPolicy()
	})
}
