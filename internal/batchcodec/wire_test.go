package batchcodec

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// Decoded strings and bytes are cut out of copies of the message: they
// must not share gRPC's buffer, which is reused after the call.
func TestUnmarshalOwnsItsFields(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 100 {
		for _, m := range messages(r) {
			b, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			got := m.ProtoReflect().New().Interface()
			if err := (Codec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, got); err != nil {
				t.Fatalf("Unmarshal(%T) error: %v", m, err)
			}
			for i := range b {
				b[i] = 0xff
			}
			if !proto.Equal(got, m) {
				t.Fatalf("Unmarshal(%T) after its buffer was overwritten = %v, want %v", m, got, m)
			}
		}
	}
}

// A decoded bytes field has no spare capacity: appending to one value
// must not write over the next.
func TestDecodedBytesDoNotOverlap(t *testing.T) {
	in := &pb.TokenizeRequest{Items: []*pb.TokenizeItem{
		{Class: "c", Value: []byte("first"), Tweak: []byte("t1")},
		{Class: "c", Value: []byte("second")},
	}}
	b, _ := proto.Marshal(in)
	got := &pb.TokenizeRequest{}
	if err := unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	for _, it := range got.Items {
		_ = append(it.Value, "XXXXXXXXXXXXXXXX"...)
		_ = append(it.Tweak, "XXXXXXXXXXXXXXXX"...)
	}
	if !proto.Equal(got, in) {
		t.Fatalf("after appending to decoded values: %v, want %v", got, in)
	}
}

// A batch decodes in a fixed number of allocations, however many items
// it holds (the message's slices and the two copies its fields are cut
// from), not one or more per item.
func TestUnmarshalAllocations(t *testing.T) {
	for _, m := range batch() {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got := m.ProtoReflect().New().Interface()
		n := testing.AllocsPerRun(20, func() {
			proto.Reset(got)
			if !handTaken(bytes.Clone(b), got) {
				t.Fatalf("hand decoder of %T refused %x", m, b)
			}
		})
		// bytes.Clone above is one more.
		if n > 7 {
			t.Errorf("decoding a %T of 1,000 items: %v allocations, want at most 7", m, n)
		}
	}
}
