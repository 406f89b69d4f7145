package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// healthCmd checks the sidecar's grpc.health.v1 status, for probes that
// cannot speak gRPC to a Unix socket (Kubernetes exec probes).
func healthCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	service := fs.String("service", "", "service to check; empty means the whole server")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	c, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	resp, err := healthpb.NewHealthClient(c.Conn()).Check(ctx, &healthpb.HealthCheckRequest{Service: *service})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, resp.GetStatus())
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("not serving")
	}
	return nil
}
