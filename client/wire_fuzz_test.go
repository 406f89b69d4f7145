package client

import (
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// FuzzWireDecode: whatever the direct replies decode, protobuf-go decodes
// too, to the same results. (A reply whose count differs from the items
// is an error without looking further: not compared.)
func FuzzWireDecode(f *testing.F) {
	tb, _ := proto.Marshal(&pb.TokenizeResponse{Results: []*pb.TokenizeResult{
		{Result: &pb.TokenizeResult_Token{Token: "4111111111111111"}}, {},
		{Result: &pb.TokenizeResult_Error{Error: nil}},
	}})
	db, _ := proto.Marshal(&pb.DetokenizeResponse{Results: []*pb.DetokenizeResult{
		{Revealed: &pb.Revealed{Value: []byte("v"), Level: Masked}}, {},
	}})
	f.Add(tb)
	f.Add(db)
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		var tm pb.TokenizeResponse
		terr := proto.Unmarshal(b, &tm)
		tr := &tokenizeReply{n: len(tm.GetResults())}
		if tr.decode(b) && tr.got == tr.n {
			if terr != nil {
				t.Fatalf("tokenizeReply.decode(% x) = true, protobuf-go: %v", b, terr)
			}
			sameResults(t, "tokenize", tr.out, messageTokenResults(t, b, 0))
		}
		var dm pb.DetokenizeResponse
		derr := proto.Unmarshal(b, &dm)
		dr := &detokenizeReply{n: len(dm.GetResults())}
		if dr.decode(b) && dr.got == dr.n {
			if derr != nil {
				t.Fatalf("detokenizeReply.decode(% x) = true, protobuf-go: %v", b, derr)
			}
			sameResults(t, "detokenize", dr.out, messageRevealed(t, b, 0))
		}
	})
}
