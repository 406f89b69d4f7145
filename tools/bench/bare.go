package main

import (
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// serveBare runs a grpc-go server with the standard health service — the
// floor a gRPC sidecar's empty call is measured against — and the durable
// floor (see floor.go), whose files are in dir on the data disk.
func serveBare(dir string) error {
	one, two, err := openFloorLogs(dir)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s := grpc.NewServer()
	healthpb.RegisterHealthServer(s, health.NewServer())
	registerFloor(s, one, two)
	fmt.Printf("bare listening on %s\n", lis.Addr())
	return s.Serve(lis)
}
