package batchcodec

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// The size functions find unknown fields without ProtoReflect, reading
// the member protoc-gen-go generates: it must be found in every message
// the codec encodes, and agree with protobuf-go with and without them.
func TestUnknownsAgreeWithProtobuf(t *testing.T) {
	type check struct {
		msg   proto.Message
		ok    bool
		plain func() bool
	}
	treq, titem, tresp, tres := &pb.TokenizeRequest{}, &pb.TokenizeItem{}, &pb.TokenizeResponse{}, &pb.TokenizeResult{}
	dreq, ditem, dresp, dres, rv := &pb.DetokenizeRequest{}, &pb.DetokenizeItem{}, &pb.DetokenizeResponse{}, &pb.DetokenizeResult{}, &pb.Revealed{}
	tests := []check{
		{treq, tokenizeRequestUnknowns.ok, func() bool { return tokenizeRequestUnknowns.plain(treq) }},
		{titem, tokenizeItemUnknowns.ok, func() bool { return tokenizeItemUnknowns.plain(titem) }},
		{tresp, tokenizeResponseUnknowns.ok, func() bool { return tokenizeResponseUnknowns.plain(tresp) }},
		{tres, tokenizeResultUnknowns.ok, func() bool { return tokenizeResultUnknowns.plain(tres) }},
		{dreq, detokenizeRequestUnknowns.ok, func() bool { return detokenizeRequestUnknowns.plain(dreq) }},
		{ditem, detokenizeItemUnknowns.ok, func() bool { return detokenizeItemUnknowns.plain(ditem) }},
		{dresp, detokenizeResponseUnknowns.ok, func() bool { return detokenizeResponseUnknowns.plain(dresp) }},
		{dres, detokenizeResultUnknowns.ok, func() bool { return detokenizeResultUnknowns.plain(dres) }},
		{rv, revealedUnknowns.ok, func() bool { return revealedUnknowns.plain(rv) }},
	}
	unknown := protoreflect.RawFields(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1))
	for _, tt := range tests {
		name := tt.msg.ProtoReflect().Descriptor().FullName()
		if !tt.ok {
			t.Errorf("%s: no unknownFields []byte member found; plain falls back to ProtoReflect", name)
		}
		if !tt.plain() {
			t.Errorf("%s without unknown fields: plain = false, want true", name)
		}
		tt.msg.ProtoReflect().SetUnknown(unknown)
		if tt.plain() {
			t.Errorf("%s with unknown fields: plain = true, want false", name)
		}
	}
}
