package server_test

import (
	"bytes"
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// rawCodec sends and receives wire bytes as they are, so a test can send
// encodings no protobuf encoder writes and see the server's exact reply.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func rawCall(t *testing.T, conn *grpc.ClientConn, method string, req []byte) ([]byte, error) {
	t.Helper()
	var resp []byte
	err := conn.Invoke(context.Background(), "/privacyvault.v1.TokenService/"+method, &req, &resp, grpc.ForceCodecV2(rawCodec{}))
	return resp, err
}

func lenField(num protowire.Number, parts ...[]byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(b, bytes.Join(parts, nil))
}

// TestBatchCodecOverGRPC: the server decodes batches by hand
// (internal/batchcodec) but as protobuf does — an encoding the hand path
// leaves to protobuf-go (a field given twice: the last wins) means what it
// means to protobuf — and what it sends back is exactly what
// proto.Marshal writes for the same response.
func TestBatchCodecOverGRPC(t *testing.T) {
	h := start(t)
	conn := h.Client(checkout).Conn()

	// The class twice: protobuf keeps the last one, "card_number".
	req := lenField(1, lenField(1, []byte("no_such_class")), lenField(1, []byte("card_number")), lenField(2, []byte("4111111111111111")))
	raw, err := rawCall(t, conn, "Tokenize", req)
	if err != nil {
		t.Fatalf("Tokenize(class given twice) error = %v", err)
	}
	var resp pb.TokenizeResponse
	if err := proto.Unmarshal(raw, &resp); err != nil {
		t.Fatalf("proto.Unmarshal(Tokenize response) error = %v", err)
	}
	if len(resp.Results) != 1 || resp.Results[0].GetToken() == "" {
		t.Fatalf("Tokenize(class given twice) = %v, want one token of card_number", &resp)
	}
	if want, _ := proto.Marshal(&resp); !bytes.Equal(raw, want) {
		t.Errorf("Tokenize response = %x, want proto.Marshal's %x", raw, want)
	}

	// The same token read back with a canonical request, the reply again
	// byte for byte protobuf's.
	dreq, _ := proto.Marshal(&pb.DetokenizeRequest{Purpose: "payment", Items: []*pb.DetokenizeItem{
		{Class: "card_number", Token: resp.Results[0].GetToken()},
		{Class: "card_number", Token: "not a token"},
	}})
	raw, err = rawCall(t, conn, "Detokenize", dreq)
	if err != nil {
		t.Fatalf("Detokenize error = %v", err)
	}
	var dresp pb.DetokenizeResponse
	if err := proto.Unmarshal(raw, &dresp); err != nil {
		t.Fatalf("proto.Unmarshal(Detokenize response) error = %v", err)
	}
	if len(dresp.Results) != 2 || string(dresp.Results[0].GetRevealed().GetValue()) != "4111111111111111" || dresp.Results[1].GetError() == nil {
		t.Fatalf("Detokenize = %v, want the card number, then an item error", &dresp)
	}
	if want, _ := proto.Marshal(&dresp); !bytes.Equal(raw, want) {
		t.Errorf("Detokenize response = %x, want proto.Marshal's %x", raw, want)
	}

	// Invalid UTF-8 in a string field fails the call as protobuf-go
	// fails it, and the server keeps serving.
	_, err = rawCall(t, conn, "Tokenize", lenField(1, lenField(1, []byte{0xff, 0xfe}), lenField(2, []byte("1"))))
	if status.Code(err) != codes.Internal {
		t.Errorf("Tokenize(invalid UTF-8 class) error = %v, want code Internal (unmarshal failed)", err)
	}
	if _, err := rawCall(t, conn, "Tokenize", req); err != nil {
		t.Errorf("Tokenize after a bad request error = %v", err)
	}
}
