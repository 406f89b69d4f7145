// Command devvault is a HashiCorp Vault API compatible server for tests and
// development. It hosts Vault's real Transit engine (mounted at transit/) and
// the real KV version 2 engine (mounted at secret/) in one process behind a
// small HTTP front that speaks Vault's /v1/ API, so the official Vault client
// works against it unchanged. It also emulates token self-lookup and renewal,
// AppRole login and Kubernetes login.
//
// It is not Vault: there is no seal, no policy engine, no audit device and no
// high availability. Every valid token may use every path. Use it only in
// tests and on a developer's machine.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devvault:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg Config
	addr := flag.String("addr", "127.0.0.1:8200", "listen address; port 0 picks a free port")
	logLevel := flag.String("log-level", "warn", "engine log level: trace, debug, info, warn or error")
	flag.StringVar(&cfg.RootToken, "root-token", "root", "root token accepted in X-Vault-Token")
	flag.StringVar(&cfg.DataDir, "data-dir", "", "directory for file-backed storage kept across restarts; empty keeps everything in memory")
	flag.StringVar(&cfg.AppRoleRoleID, "approle-role-id", "", "role_id accepted by auth/approle/login; empty disables AppRole")
	flag.StringVar(&cfg.AppRoleSecretID, "approle-secret-id", "", "secret_id accepted by auth/approle/login")
	flag.StringVar(&cfg.K8sRole, "k8s-role", "", "role accepted by auth/kubernetes/login; empty disables Kubernetes login")
	flag.StringVar(&cfg.K8sJWT, "k8s-jwt", "", "service account JWT accepted by auth/kubernetes/login (compared as a string)")
	tlsCert := flag.String("tls-cert", "", "PEM certificate file; with -tls-key serves HTTPS")
	tlsKey := flag.String("tls-key", "", "PEM private key file for -tls-cert")
	flag.DurationVar(&cfg.TokenTTL, "token-ttl", time.Hour, "TTL of tokens issued by login and renewal")
	flag.DurationVar(&cfg.TokenMaxTTL, "token-max-ttl", 24*time.Hour, "maximum lifetime of tokens issued by login")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", flag.Args())
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	if cfg.RootToken == "" {
		return errors.New("-root-token must not be empty")
	}
	cfg.Logger = hclog.New(&hclog.LoggerOptions{
		Name:   "devvault",
		Level:  hclog.LevelFromString(*logLevel),
		Output: os.Stderr,
	})

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	srv, err := NewServer(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return err
		}
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	// Tests parse this line to learn the port: keep it first and stable.
	fmt.Printf("devvault listening on %s://%s\n", scheme, ln.Addr())

	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- hs.ServeTLS(ln, "", "")
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shutdownCtx)
}
