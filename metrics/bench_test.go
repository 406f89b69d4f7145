package metrics_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/metrics"
)

// BenchmarkCallOverhead is what one single-item Tokenize adds in metrics:
// the gRPC interceptor, one item outcome, one store commit and one audit
// append observation.
func BenchmarkCallOverhead(b *testing.B) {
	r := metrics.New()
	unary := r.GRPC().UnaryServerInterceptor()
	info := &grpc.UnaryServerInfo{FullMethod: "/privacyvault.v1.TokenService/Tokenize"}
	handler := func(ctx context.Context, req any) (any, error) { return req, nil }
	o := core.Outcome{Op: "tokenize", Class: "card_number", Mode: "random", Result: core.ResultOK}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		unary(ctx, nil, info, handler)
		r.Items(o, 1)
		r.StoreCommit("insert", time.Millisecond)
		r.AuditAppend(time.Millisecond)
	}
}
