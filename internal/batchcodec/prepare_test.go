package batchcodec

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
	"weak"

	"google.golang.org/protobuf/proto"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// TestPreparedMatchesProto: a prepared response is sent as proto.Marshal
// encodes it, once; a second Marshal of it encodes it again, the same.
func TestPreparedMatchesProto(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		m := messages(r)[1].(*pb.TokenizeResponse)
		want, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		Prepare(m)
		if _, ok := prepared.Load(weak.Make(m)); !ok {
			t.Fatalf("Prepare(%d results) kept no encoding", len(m.Results))
		}
		if got := marshal(t, m); !bytes.Equal(got, want) {
			t.Fatalf("Marshal(prepared %T) = %x,\nwant %x", m, got, want)
		}
		if _, ok := prepared.Load(weak.Make(m)); ok {
			t.Fatalf("Marshal(prepared %T) left its encoding to be sent again", m)
		}
		if got := marshal(t, m); !bytes.Equal(got, want) {
			t.Fatalf("Marshal(%T) after its prepared encoding was sent = %x,\nwant %x", m, got, want)
		}
	}
}

// TestPrepareLeavesToMarshal: what the hand path cannot encode (invalid
// UTF-8 in a token) is not prepared, and Marshal fails as proto.Marshal.
func TestPrepareLeavesToMarshal(t *testing.T) {
	m := &pb.TokenizeResponse{Results: []*pb.TokenizeResult{{Result: &pb.TokenizeResult_Token{Token: "\xff"}}}}
	Prepare(m)
	Prepare(nil)
	if _, ok := prepared.Load(weak.Make(m)); ok {
		t.Fatal("Prepare kept an encoding of a token that is not UTF-8")
	}
	_, wantErr := proto.Marshal(m)
	if _, err := (Codec{}).Marshal(m); (err != nil) != (wantErr != nil) {
		t.Errorf("Marshal(invalid UTF-8) error = %v, want as proto.Marshal's: %v", err, wantErr)
	}
}

// TestPreparedDroppedWithItsMessage: an encoding never sent (its call
// failed) goes when its message is collected.
func TestPreparedDroppedWithItsMessage(t *testing.T) {
	m := &pb.TokenizeResponse{Results: []*pb.TokenizeResult{{Result: &pb.TokenizeResult_Token{Token: "4111"}}}}
	Prepare(m)
	key := weak.Make(m)
	if _, ok := prepared.Load(key); !ok {
		t.Fatal("Prepare kept no encoding")
	}
	m = nil
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		runtime.GC() // collects the message; its cleanup runs after
		if _, ok := prepared.Load(key); !ok {
			return
		}
	}
	t.Error("the encoding of a collected message was kept")
}
