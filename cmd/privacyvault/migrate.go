package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/server"
	"github.com/privacyvault/privacyvault/store/postgres"
)

// migrateCmd applies the PostgreSQL store's pending schema migrations, for
// deployments that start sidecars with store.postgres.auto_migrate false (a
// migration job before a rollout).
func migrateCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "migrate --config FILE",
		Short: "Apply the PostgreSQL store's schema migrations",
		Long: `Apply the schema migrations embedded in this binary to the PostgreSQL
database that store.postgres names (dsn_file, or PRIVACYVAULT_POSTGRES_DSN),
and print the versions applied and the schema version now in place. Safe to
run while sidecars start: migrators queue on one row lock and apply each
version once. Sidecars apply migrations themselves at start unless
store.postgres.auto_migrate is false.`,
		Example: "  privacyvault migrate --config /etc/privacyvault/config.yaml",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				path = os.Getenv(envConfig)
			}
			if path == "" {
				return usagef("--config FILE is required (or set %s)", envConfig)
			}
			cfg, err := config.Load(path)
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
			applied, version, err := postgres.MigrateOnly(cmd.Context(), o)
			if err != nil {
				return err
			}
			if applied == nil {
				applied = []int{}
			}
			if isJSON(cmd) {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"applied": applied, "schema_version": version})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "applied %d migration(s) %v; schema version %d\n", len(applied), applied, version)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "configuration file whose store.backend is postgres (env "+envConfig+")")
	return cmd
}
