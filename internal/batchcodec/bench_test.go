package batchcodec

import (
	"fmt"
	"testing"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// batch returns the four batch messages for 1,000 items shaped like the
// bench's: 16-digit values, 36-character tokens.
func batch() []proto.Message {
	treq := &pb.TokenizeRequest{}
	tresp := &pb.TokenizeResponse{}
	dreq := &pb.DetokenizeRequest{Purpose: "bench"}
	dresp := &pb.DetokenizeResponse{}
	for i := range 1000 {
		v := fmt.Sprintf("%016d", i*7919)
		tok := fmt.Sprintf("pvt_%032d", i*7919)
		treq.Items = append(treq.Items, &pb.TokenizeItem{Class: "fpe", Value: []byte(v)})
		tresp.Results = append(tresp.Results, &pb.TokenizeResult{Result: &pb.TokenizeResult_Token{Token: tok}})
		dreq.Items = append(dreq.Items, &pb.DetokenizeItem{Class: "rnd", Token: tok})
		dresp.Results = append(dresp.Results, &pb.DetokenizeResult{Revealed: &pb.Revealed{Value: []byte(v), Level: pb.RevealLevel_REVEAL_LEVEL_PLAIN}})
	}
	return []proto.Message{treq, tresp, dreq, dresp}
}

// BenchmarkCodec compares the codec with gRPC's protobuf codec on batches
// of 1,000: go test -bench Codec ./internal/batchcodec/
func BenchmarkCodec(b *testing.B) {
	codecs := []struct {
		name string
		c    encoding.CodecV2
	}{{"proto", protoCodec()}, {"batch", Codec{}}}
	for _, m := range batch() {
		name := string(m.ProtoReflect().Descriptor().Name())
		for _, c := range codecs {
			b.Run(fmt.Sprintf("Marshal/%s/%s", name, c.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					data, err := c.c.Marshal(m)
					if err != nil {
						b.Fatal(err)
					}
					data.Free()
				}
			})
			wire, _ := proto.Marshal(m)
			b.Run(fmt.Sprintf("Unmarshal/%s/%s", name, c.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := c.c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, m.ProtoReflect().New().Interface()); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
