//go:build !race

package client_test

import (
	"context"
	"testing"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// The race detector changes allocation counts; make test runs this file
// in its own step without it.

// sdkAllocBudget is the most allocations a one-value Tokenize or
// Detokenize through the SDK may add to the same call made with bare
// grpc-go (request and response conversion; the codec).
const sdkAllocBudget = 3

// TestUnaryAllocs: a one-value call through the SDK allocates at most
// sdkAllocBudget more than the same call through bare grpc-go. Both count
// the stub server's allocations too, which are the same for both.
func TestUnaryAllocs(t *testing.T) {
	addr := startStub(t)
	ctx := context.Background()
	sdk, bare := dialStub(t, addr), bareStub(t, addr)
	value := []byte("bench-value-0001")
	tests := []struct {
		name      string
		sdk, bare func()
	}{
		{
			name: "Tokenize",
			sdk: func() {
				if _, err := sdk.Tokenize(ctx, "rnd", value); err != nil {
					t.Fatal(err)
				}
			},
			bare: func() {
				if _, err := bare.Tokenize(ctx, &pb.TokenizeRequest{Items: []*pb.TokenizeItem{{Class: "rnd", Value: value}}}); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "Detokenize",
			sdk: func() {
				if _, err := sdk.Detokenize(ctx, "bench", "rnd", "tok_0123456789abcdef"); err != nil {
					t.Fatal(err)
				}
			},
			bare: func() {
				if _, err := bare.Detokenize(ctx, &pb.DetokenizeRequest{Purpose: "bench", Items: []*pb.DetokenizeItem{{Class: "rnd", Token: "tok_0123456789abcdef"}}}); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, floor := testing.AllocsPerRun(500, tt.sdk), testing.AllocsPerRun(500, tt.bare)
			t.Logf("%s: SDK %.0f allocations per call, bare grpc-go %.0f", tt.name, got, floor)
			if got > floor+sdkAllocBudget {
				t.Errorf("%s allocations per call = %.0f, want at most %.0f (bare grpc-go %.0f + %d)", tt.name, got, floor+sdkAllocBudget, floor, sdkAllocBudget)
			}
		})
	}
}
