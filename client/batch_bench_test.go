package client_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	"google.golang.org/grpc"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/internal/batchcodec"
	"github.com/privacyvault/privacyvault/internal/cputime"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// batchStub answers as stub does, with the sidecar's codec and one
// allocation for all results: a batch benchmark against it measures
// mostly the client.
type batchStub struct{ stub }

func (batchStub) Tokenize(_ context.Context, req *pb.TokenizeRequest) (*pb.TokenizeResponse, error) {
	n := len(req.GetItems())
	out := &pb.TokenizeResponse{Results: make([]*pb.TokenizeResult, n)}
	slab := make([]struct {
		r pb.TokenizeResult
		t pb.TokenizeResult_Token
	}, n)
	for i := range out.Results {
		slab[i].t.Token = "4111111111111111"
		slab[i].r.Result = &slab[i].t
		out.Results[i] = &slab[i].r
	}
	return out, nil
}

func (batchStub) Detokenize(_ context.Context, req *pb.DetokenizeRequest) (*pb.DetokenizeResponse, error) {
	n := len(req.GetItems())
	out := &pb.DetokenizeResponse{Results: make([]*pb.DetokenizeResult, n)}
	slab := make([]struct {
		r pb.DetokenizeResult
		v pb.Revealed
	}, n)
	for i := range out.Results {
		slab[i].v = pb.Revealed{Value: value, Level: client.Plain}
		slab[i].r.Revealed = &slab[i].v
		out.Results[i] = &slab[i].r
	}
	return out, nil
}

var value = []byte("4111111111111111")

func startBatchStub(tb testing.TB) string {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := grpc.NewServer(grpc.InitialWindowSize(1<<20), grpc.InitialConnWindowSize(1<<20), grpc.ForceServerCodecV2(batchcodec.Codec{}))
	pb.RegisterTokenServiceServer(s, batchStub{})
	go s.Serve(lis)
	tb.Cleanup(s.Stop)
	return lis.Addr().String()
}

// BenchmarkBatch compares a batch of 1,000 through the direct path (Dial)
// and the message path (Dial with a dial option) against batchStub, whose
// cost is the same for both: go test -bench Batch ./client/
func BenchmarkBatch(b *testing.B) {
	addr := startBatchStub(b)
	ctx := context.Background()
	items := make([]client.TokenizeItem, 1000)
	det := make([]client.DetokenizeItem, 1000)
	for i := range items {
		items[i] = client.TokenizeItem{Class: "fpe", Value: fmt.Appendf(nil, "%016d", i*7919)}
		det[i] = client.DetokenizeItem{Class: "fpe", Token: fmt.Sprintf("%016d", i*7919)}
	}
	for _, path := range []struct {
		name string
		opts []client.Option
	}{{"direct", nil}, {"message", []client.Option{client.WithDialOptions(grpc.WithUserAgent("message-path"))}}} {
		c := dialStub(b, addr, path.opts...)
		b.Run("tokenize/"+path.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cputime.Process()
			for b.Loop() {
				if _, err := c.TokenizeBatch(ctx, items); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
		})
		b.Run("detokenize/"+path.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cputime.Process()
			for b.Loop() {
				if _, err := c.DetokenizeBatch(ctx, "bench", det); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
