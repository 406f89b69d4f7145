package main

import (
	"os"

	"github.com/spf13/pflag"
)

const envHTTPListen = "PRIVACYVAULT_HTTP_LISTEN"

// httpListenFlag defines serve's --http-listen; its own function so that a
// move to another flag library carries it in one piece. The result resolves
// flag, then environment; empty keeps the gateway off.
func httpListenFlag(fs *pflag.FlagSet) func() string {
	v := fs.String("http-listen", "", "serve the HTTP/JSON gateway and /openapi.json on host:port (env "+envHTTPListen+"; off unless set)")
	return func() string { return pick(*v, os.Getenv(envHTTPListen)) }
}
