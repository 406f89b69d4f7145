//go:build !race

package client

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// The race detector changes allocation counts; make test runs this file
// in its own step without it.

// A batch of 1,000 costs the direct path a few allocations per direction,
// none per item: the call, the results, and one copy of the response.
func TestWireAllocs(t *testing.T) {
	items := make([]TokenizeItem, 1000)
	det := make([]DetokenizeItem, 1000)
	tresp := &pb.TokenizeResponse{}
	dresp := &pb.DetokenizeResponse{}
	for i := range items {
		v := fmt.Sprintf("%016d", i*7919)
		items[i] = TokenizeItem{Class: "fpe", Value: []byte(v)}
		det[i] = DetokenizeItem{Class: "fpe", Token: v}
		tresp.Results = append(tresp.Results, &pb.TokenizeResult{Result: &pb.TokenizeResult_Token{Token: v}})
		dresp.Results = append(dresp.Results, &pb.DetokenizeResult{Revealed: &pb.Revealed{Value: []byte(v), Level: Plain}})
	}
	tb, _ := proto.Marshal(tresp)
	db, _ := proto.Marshal(dresp)
	tests := []struct {
		name string
		max  float64
		f    func()
	}{
		{"tokenize request", 2, func() {
			c, _ := newTokenizeCall(items)
			data, _ := wireCodec{}.Marshal(c)
			data.Free()
		}},
		{"detokenize request", 2, func() {
			c, _ := newDetokenizeCall("bench", det)
			data, _ := wireCodec{}.Marshal(c)
			data.Free()
		}},
		{"tokenize response", 2, func() { (&tokenizeReply{n: 1000}).decode(tb) }},
		{"detokenize response", 2, func() { (&detokenizeReply{n: 1000}).decode(db) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(50, tt.f); n > tt.max {
			t.Errorf("%s of 1,000 items: %v allocations, want at most %v", tt.name, n, tt.max)
		}
	}
}
