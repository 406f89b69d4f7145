package main

import (
	"fmt"

	"github.com/spf13/cobra"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/privacyvault/privacyvault/client"
)

// healthCmd checks the sidecar's grpc.health.v1 status, for probes that
// cannot speak gRPC to a Unix socket (Kubernetes exec probes).
func healthCmd() *cobra.Command {
	var service string
	cmd := clientCmd("health [--service NAME]", "Exit 0 when the sidecar is serving (for probes)", noArgs,
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&service, "service", "", "service to check; empty means the whole server")
		},
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			resp, err := healthpb.NewHealthClient(c.Conn()).Check(cmd.Context(), &healthpb.HealthCheckRequest{Service: service})
			if err != nil {
				return err
			}
			if isJSON(cmd) {
				if err := writeJSON(cmd.OutOrStdout(), map[string]string{"status": resp.GetStatus().String()}); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), resp.GetStatus())
			}
			if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				return fmt.Errorf("not serving")
			}
			return nil
		})
	return cmd
}
