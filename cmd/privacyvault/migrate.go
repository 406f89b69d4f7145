package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/server"
	"github.com/privacyvault/privacyvault/store/postgres"
)

// migrateCmd applies the PostgreSQL store's pending schema migrations,
// for deployments that start sidecars with store.postgres.auto_migrate
// false (a migration job before a rollout).
func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "privacyvault.yaml", "configuration file (store.backend must be postgres)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if cfg.Store.Backend != config.BackendPostgres {
		return errors.New("store.backend is not postgres: the embedded store needs no migrations")
	}
	o, err := server.PostgresOptions(cfg)
	if err != nil {
		return err
	}
	applied, version, err := postgres.MigrateOnly(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migration(s) %v; schema version %d\n", len(applied), applied, version)
	return nil
}
