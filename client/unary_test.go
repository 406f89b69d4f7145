package client_test

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/privacyvault/privacyvault/client"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// stub answers Tokenize and Detokenize with one fixed result per item
// (none for class "none"), so that a benchmark against it measures the
// client and grpc-go, not the sidecar.
type stub struct {
	pb.UnimplementedTokenServiceServer
}

func (stub) Tokenize(_ context.Context, req *pb.TokenizeRequest) (*pb.TokenizeResponse, error) {
	if req.GetItems()[0].GetClass() == "none" {
		return &pb.TokenizeResponse{}, nil
	}
	out := &pb.TokenizeResponse{Results: make([]*pb.TokenizeResult, len(req.GetItems()))}
	for i := range out.Results {
		out.Results[i] = &pb.TokenizeResult{Result: &pb.TokenizeResult_Token{Token: "tok_0123456789abcdef"}}
	}
	return out, nil
}

func (stub) Detokenize(_ context.Context, req *pb.DetokenizeRequest) (*pb.DetokenizeResponse, error) {
	if req.GetItems()[0].GetClass() == "none" {
		return &pb.DetokenizeResponse{}, nil
	}
	out := &pb.DetokenizeResponse{Results: make([]*pb.DetokenizeResult, len(req.GetItems()))}
	for i := range out.Results {
		out.Results[i] = &pb.DetokenizeResult{Revealed: &pb.Revealed{Value: []byte("bench-value"), Level: client.Plain}}
	}
	return out, nil
}

// startStub serves stub on a loopback port and returns its address.
func startStub(tb testing.TB) string {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	// Fixed windows, as the sidecar's: no BDP pings in the counts.
	s := grpc.NewServer(grpc.InitialWindowSize(1<<20), grpc.InitialConnWindowSize(1<<20))
	pb.RegisterTokenServiceServer(s, stub{})
	go s.Serve(lis)
	tb.Cleanup(s.Stop)
	return lis.Addr().String()
}

func dialStub(tb testing.TB, addr string, opts ...client.Option) *client.Client {
	tb.Helper()
	c, err := client.Dial(addr, append([]client.Option{client.WithInsecure()}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// bareStub is a plain grpc-go client of the stub: the floor the SDK is
// compared with. It has the SDK's flow-control windows.
func bareStub(tb testing.TB, addr string) pb.TokenServiceClient {
	tb.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(1<<20), grpc.WithInitialConnWindowSize(1<<20))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return pb.NewTokenServiceClient(conn)
}

// BenchmarkUnary compares one-value calls through the SDK with the same
// calls through a bare grpc-go client, both against the stub.
func BenchmarkUnary(b *testing.B) {
	addr := startStub(b)
	ctx := context.Background()
	value := []byte("bench-value-0001")
	b.Run("tokenize/sdk", func(b *testing.B) {
		c := dialStub(b, addr, client.WithBearerToken(checkout))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Tokenize(ctx, "rnd", value); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tokenize/bare", func(b *testing.B) {
		c := bareStub(b, addr)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Tokenize(ctx, &pb.TokenizeRequest{Items: []*pb.TokenizeItem{{Class: "rnd", Value: value}}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("detokenize/sdk", func(b *testing.B) {
		c := dialStub(b, addr, client.WithBearerToken(checkout))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Detokenize(ctx, "bench", "rnd", "tok_0123456789abcdef"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("detokenize/bare", func(b *testing.B) {
		c := bareStub(b, addr)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Detokenize(ctx, &pb.DetokenizeRequest{Purpose: "bench", Items: []*pb.DetokenizeItem{{Class: "rnd", Token: "tok_0123456789abcdef"}}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUnaryServer is a one-value Tokenize through the SDK against
// the real server in process (its cost included).
func BenchmarkUnaryServer(b *testing.B) {
	c := startServer(b, 10000).Client(checkout)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Tokenize(ctx, "email", []byte("bench@example.com")); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMissingResult: a response without the item's result is an error,
// not an empty token.
func TestMissingResult(t *testing.T) {
	c := dialStub(t, startStub(t))
	ctx := context.Background()
	want := "client: server returned 0 results for one item"
	if tok, err := c.Tokenize(ctx, "none", []byte("v")); err == nil || err.Error() != want {
		t.Errorf("Tokenize(none) = %q, %v; want error %q", tok, err, want)
	}
	if r, err := c.Detokenize(ctx, "bench", "none", "tok"); err == nil || err.Error() != want {
		t.Errorf("Detokenize(none) = %q, %v; want error %q", r.Value, err, want)
	}
}
