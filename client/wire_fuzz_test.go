package client

import (
	"bytes"
	"testing"
	"time"

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

// FuzzWireEncode: the direct requests are proto.Marshal's bytes for any
// items (two items, so the class check's skip of a repeated class is
// covered), and their sizes exact; items the direct path refuses are
// ones proto.Marshal refuses too.
func FuzzWireEncode(f *testing.F) {
	f.Add("fpe", []byte("4111111111111111"), "ctx", []byte("tw"), "subj", int64(90e9+5), "fpe", "tok")
	f.Add("", []byte(nil), "", []byte(nil), "", int64(-1), "\xff", "")
	f.Add("c", []byte{0xff}, "", []byte(nil), "", int64(1), "c", "\xc3")
	f.Fuzz(func(t *testing.T, class string, value []byte, context string, tweak []byte, subject string, ttl int64, class2, token string) {
		items := []TokenizeItem{
			{Class: class, Value: value, Context: context, Tweak: tweak, SubjectID: subject, TTL: time.Duration(ttl)},
			{Class: class2, Value: tweak, Context: subject, Tweak: value, SubjectID: context, TTL: time.Duration(ttl / 3)},
		}
		want, werr := proto.MarshalOptions{Deterministic: true}.Marshal(pbTokenizeRequest(items))
		if call, ok := newTokenizeCall(items); ok != (werr == nil) {
			t.Fatalf("newTokenizeCall(%+v) ok = %v, proto.Marshal error = %v", items, ok, werr)
		} else if ok {
			if got := marshalWire(t, call); !bytes.Equal(got, want) || call.size != len(want) {
				t.Fatalf("tokenize %+v: wire bytes (size %d) =\n%x\nwant proto.Marshal's\n%x", items, call.size, got, want)
			}
		}
		det := []DetokenizeItem{
			{Class: class, Token: token, Context: context, Tweak: tweak, SubjectID: subject},
			{Class: class2, Token: subject, Context: token, Tweak: value, SubjectID: context},
		}
		want, werr = proto.MarshalOptions{Deterministic: true}.Marshal(pbDetokenizeRequest(class2, det))
		if call, ok := newDetokenizeCall(class2, det); ok != (werr == nil) {
			t.Fatalf("newDetokenizeCall(%+v) ok = %v, proto.Marshal error = %v", det, ok, werr)
		} else if ok {
			if got := marshalWire(t, call); !bytes.Equal(got, want) || call.size != len(want) {
				t.Fatalf("detokenize %+v: wire bytes (size %d) =\n%x\nwant proto.Marshal's\n%x", det, call.size, got, want)
			}
		}
	})
}
