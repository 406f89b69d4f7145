package batchcodec

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// TestFieldsKnown fails when a field is added to a message the codec
// encodes by hand: the encoder would drop it silently, so it must learn
// the field first (the decoders leave unknown fields to protobuf-go).
func TestFieldsKnown(t *testing.T) {
	tests := []struct {
		msg  proto.Message
		want []string
	}{
		{&pb.TokenizeRequest{}, []string{"1 items"}},
		{&pb.TokenizeItem{}, []string{"1 class", "2 value", "3 context", "4 tweak", "5 subject_id", "6 ttl"}},
		{&pb.TokenizeResponse{}, []string{"1 results"}},
		{&pb.TokenizeResult{}, []string{"1 token", "2 error"}},
		{&pb.DetokenizeRequest{}, []string{"1 purpose", "2 items"}},
		{&pb.DetokenizeItem{}, []string{"1 class", "2 token", "3 context", "4 tweak", "5 subject_id"}},
		{&pb.DetokenizeResponse{}, []string{"1 results"}},
		{&pb.DetokenizeResult{}, []string{"1 revealed", "2 error"}},
		{&pb.Revealed{}, []string{"1 value", "2 level"}},
	}
	for _, tt := range tests {
		fs := tt.msg.ProtoReflect().Descriptor().Fields()
		var got []string
		for i := range fs.Len() {
			got = append(got, fmt.Sprintf("%d %s", fs.Get(i).Number(), fs.Get(i).Name()))
		}
		name := tt.msg.ProtoReflect().Descriptor().FullName()
		if !slices.Equal(got, tt.want) {
			t.Errorf("fields of %s = %q, want %q (update batchcodec for the new field)", name, got, tt.want)
		}
	}
}

// messages returns messages of every shape the codec handles, with
// random contents: empty and full fields, errors with details, batches.
func messages(r *rand.Rand) []proto.Message {
	str := func() string {
		if r.IntN(4) == 0 {
			return ""
		}
		return fmt.Sprintf("s%d-ü-%x", r.IntN(1000), r.Uint64()>>r.IntN(64))
	}
	byt := func() []byte {
		if r.IntN(4) == 0 {
			return nil
		}
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	status := func() *spb.Status {
		st := &spb.Status{Code: int32(r.IntN(17)), Message: str()}
		if r.IntN(2) == 0 {
			d, _ := anypb.New(&durationpb.Duration{Seconds: r.Int64()})
			st.Details = append(st.Details, d)
		}
		return st
	}
	n := r.IntN(40)
	if r.IntN(10) == 0 {
		n = 1000 + r.IntN(200)
	}
	treq := &pb.TokenizeRequest{}
	tresp := &pb.TokenizeResponse{}
	dreq := &pb.DetokenizeRequest{Purpose: str()}
	dresp := &pb.DetokenizeResponse{}
	for range n {
		treq.Items = append(treq.Items, &pb.TokenizeItem{Class: str(), Value: byt(), Context: str(), Tweak: byt(), SubjectId: str()})
		dreq.Items = append(dreq.Items, &pb.DetokenizeItem{Class: str(), Token: str(), Context: str(), Tweak: byt(), SubjectId: str()})
		tr := &pb.TokenizeResult{}
		switch r.IntN(4) {
		case 0:
			tr.Result = &pb.TokenizeResult_Error{Error: status()}
		case 1:
			tr.Result = &pb.TokenizeResult_Token{Token: ""}
		case 2:
			tr.Result = &pb.TokenizeResult_Token{Token: str()}
		}
		tresp.Results = append(tresp.Results, tr)
		dr := &pb.DetokenizeResult{}
		if r.IntN(3) > 0 {
			dr.Revealed = &pb.Revealed{Value: byt(), Level: pb.RevealLevel(r.IntN(5) - 1)}
		}
		if r.IntN(3) == 0 {
			dr.Error = status()
		}
		dresp.Results = append(dresp.Results, dr)
	}
	return []proto.Message{treq, tresp, dreq, dresp}
}

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	data, err := Codec{}.Marshal(m)
	if err != nil {
		t.Fatalf("Marshal(%T) error: %v", m, err)
	}
	defer data.Free()
	return data.Materialize()
}

func unmarshal(b []byte, m proto.Message) error {
	return Codec{}.Unmarshal(mem.BufferSlice{mem.SliceBuffer(bytes.Clone(b))}, m)
}

func TestMarshalMatchesProto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		for _, m := range messages(r) {
			want, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := marshal(t, m); !bytes.Equal(got, want) {
				t.Fatalf("Marshal(%T) = %x,\nwant %x", m, got, want)
			}
		}
	}
}

// handTaken reports whether the hand-written decoder of m's type accepts b.
func handTaken(b []byte, m proto.Message) bool {
	switch m := m.(type) {
	case *pb.TokenizeRequest:
		return decodeTokenizeRequest(b, m)
	case *pb.TokenizeResponse:
		return decodeTokenizeResponse(b, m)
	case *pb.DetokenizeRequest:
		return decodeDetokenizeRequest(b, m)
	case *pb.DetokenizeResponse:
		return decodeDetokenizeResponse(b, m)
	}
	return false
}

func TestUnmarshalMatchesProto(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		for _, m := range messages(r) {
			b, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			// What proto.Marshal writes is canonical: the hand path must
			// take it, not leave it to protobuf-go.
			if !handTaken(b, m.ProtoReflect().New().Interface()) {
				t.Fatalf("hand decoder of %T refused proto.Marshal's output %x", m, b)
			}
			got := m.ProtoReflect().New().Interface()
			if err := unmarshal(b, got); err != nil {
				t.Fatalf("Unmarshal(%T) error: %v", m, err)
			}
			if !proto.Equal(got, m) {
				t.Fatalf("Unmarshal(%T) = %v, want %v", m, got, m)
			}
		}
	}
}

// TestNotCanonical feeds encodings the hand path leaves to protobuf-go and
// checks the codec decodes them as protobuf-go does.
func TestNotCanonical(t *testing.T) {
	tag := func(b []byte, num protowire.Number, typ protowire.Type) []byte {
		return protowire.AppendTag(b, num, typ)
	}
	lenField := func(num protowire.Number, v []byte) []byte {
		return protowire.AppendBytes(tag(nil, num, protowire.BytesType), v)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	ttl, _ := proto.Marshal(&durationpb.Duration{Seconds: 60})
	st, _ := proto.Marshal(&spb.Status{Code: 3, Message: "bad"})
	tests := []struct {
		name string
		msg  proto.Message
		in   []byte
	}{
		{"class twice: the last wins", &pb.TokenizeRequest{}, lenField(1, cat(lenField(1, []byte("a")), lenField(1, []byte("b")), lenField(2, []byte("v"))))},
		{"ttl", &pb.TokenizeRequest{}, lenField(1, cat(lenField(1, []byte("a")), lenField(6, ttl)))},
		{"unknown item field", &pb.TokenizeRequest{}, lenField(1, cat(lenField(1, []byte("a")), lenField(9, []byte("x"))))},
		{"unknown top-level field", &pb.TokenizeRequest{}, cat(lenField(1, lenField(1, []byte("a"))), protowire.AppendVarint(tag(nil, 7, protowire.VarintType), 5))},
		{"class as a varint", &pb.TokenizeRequest{}, lenField(1, protowire.AppendVarint(tag(nil, 1, protowire.VarintType), 5))},
		{"invalid UTF-8 class", &pb.TokenizeRequest{}, lenField(1, lenField(1, []byte{0xff}))},
		{"truncated", &pb.TokenizeRequest{}, lenField(1, lenField(1, []byte("abc")))[:4]},
		{"both members of the oneof", &pb.TokenizeResponse{}, lenField(1, cat(lenField(1, []byte("tok")), lenField(2, st)))},
		{"error twice", &pb.TokenizeResponse{}, lenField(1, cat(lenField(2, st), lenField(2, st)))},
		{"purpose after items", &pb.DetokenizeRequest{}, cat(lenField(2, lenField(2, []byte("t"))), lenField(1, []byte("p")))},
		{"purpose twice", &pb.DetokenizeRequest{}, cat(lenField(1, []byte("p")), lenField(1, []byte("q")))},
		{"revealed twice: merged", &pb.DetokenizeResponse{}, lenField(1, cat(lenField(1, lenField(1, []byte("v"))), lenField(1, protowire.AppendVarint(tag(nil, 2, protowire.VarintType), 1))))},
		{"level beyond int32", &pb.DetokenizeResponse{}, lenField(1, lenField(1, protowire.AppendVarint(tag(nil, 2, protowire.VarintType), 1<<40)))},
		{"level as bytes", &pb.DetokenizeResponse{}, lenField(1, lenField(1, lenField(2, []byte("x"))))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if handTaken(tt.in, tt.msg.ProtoReflect().New().Interface()) {
				t.Fatalf("hand decoder took %x; it must leave it to protobuf-go", tt.in)
			}
			want := tt.msg.ProtoReflect().New().Interface()
			wantErr := proto.Unmarshal(tt.in, want)
			got := tt.msg.ProtoReflect().New().Interface()
			gotErr := unmarshal(tt.in, got)
			if (gotErr == nil) != (wantErr == nil) || !proto.Equal(got, want) {
				t.Fatalf("Unmarshal(%x) = %v, %v; want %v, %v", tt.in, got, gotErr, want, wantErr)
			}
		})
	}
}

// TestMarshalLeavesToProto covers messages the hand encoder must not
// write: the result is still protobuf-go's, error included.
func TestMarshalLeavesToProto(t *testing.T) {
	withUnknown := &pb.TokenizeItem{Class: "a"}
	withUnknown.ProtoReflect().SetUnknown(protoreflect.RawFields(protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.VarintType), 1)))
	tests := []struct {
		name string
		msg  proto.Message
	}{
		{"ttl", &pb.TokenizeRequest{Items: []*pb.TokenizeItem{{Class: "a", Ttl: durationpb.New(90e9)}}}},
		{"unknown fields", &pb.TokenizeRequest{Items: []*pb.TokenizeItem{withUnknown}}},
		{"invalid UTF-8", &pb.DetokenizeRequest{Purpose: "p", Items: []*pb.DetokenizeItem{{Token: "\xff"}}}},
		{"invalid UTF-8 token", &pb.TokenizeResponse{Results: []*pb.TokenizeResult{{Result: &pb.TokenizeResult_Token{Token: "\xfe"}}}}},
		{"invalid UTF-8 in an item error", &pb.TokenizeResponse{Results: []*pb.TokenizeResult{{Result: &pb.TokenizeResult_Error{Error: &spb.Status{Code: 3, Message: "\xfe"}}}}}},
		{"invalid UTF-8 in a detokenize error", &pb.DetokenizeResponse{Results: []*pb.DetokenizeResult{{Error: &spb.Status{Code: 3, Message: "\xfe"}}}}},
		{"nil item", &pb.DetokenizeRequest{Items: []*pb.DetokenizeItem{nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := proto.Marshal(tt.msg)
			data, gotErr := Codec{}.Marshal(tt.msg)
			// On an error protobuf-go's partial output means nothing.
			if (gotErr == nil) != (wantErr == nil) || gotErr == nil && !bytes.Equal(data.Materialize(), want) {
				t.Fatalf("Marshal = %x, %v; want %x, %v", data.Materialize(), gotErr, want, wantErr)
			}
		})
	}
}

// TestOtherMessages: messages the codec does not know go to protobuf-go.
func TestOtherMessages(t *testing.T) {
	in := &pb.LookupRequest{Items: []*pb.LookupItem{{Class: "det", Value: []byte("v")}}}
	b := marshal(t, in)
	want, _ := proto.Marshal(in)
	if !bytes.Equal(b, want) {
		t.Fatalf("Marshal(LookupRequest) = %x, want %x", b, want)
	}
	got := &pb.LookupRequest{}
	if err := unmarshal(b, got); err != nil || !proto.Equal(got, in) {
		t.Fatalf("Unmarshal(LookupRequest) = %v, %v; want %v", got, err, in)
	}
}

func FuzzUnmarshal(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 4 {
		for _, m := range messages(r) {
			b, _ := proto.Marshal(m)
			if len(b) < 4096 {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range []proto.Message{&pb.TokenizeRequest{}, &pb.TokenizeResponse{}, &pb.DetokenizeRequest{}, &pb.DetokenizeResponse{}} {
			want := m.ProtoReflect().New().Interface()
			wantErr := proto.Unmarshal(b, want)
			got := m.ProtoReflect().New().Interface()
			gotErr := unmarshal(b, got)
			if (gotErr == nil) != (wantErr == nil) || !proto.Equal(got, want) {
				t.Fatalf("Unmarshal(%T, %x) = %v, %v; want %v, %v", m, b, got, gotErr, want, wantErr)
			}
		}
	})
}
