package client

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

var long = strings.Repeat("x", 300) // a length of two varint bytes

func wireItems() []TokenizeItem {
	return []TokenizeItem{
		{Class: "fpe", Value: []byte("4111111111111111")},
		{Class: "fpe", Value: []byte("4111111111111112")},
		{Class: "email", Value: []byte("bob@example.com"), SubjectID: "cust-7"},
		{Class: "account", Value: []byte("12345678901"), Context: "tenant-a", Tweak: []byte("tweak07")},
		{Class: "notes", Value: []byte(long), TTL: time.Nanosecond},
		{Class: "notes", Value: []byte("v"), TTL: time.Second},
		{Class: "notes", Value: []byte("v"), TTL: 90*time.Minute + 5*time.Millisecond},
		{Class: "notes", Value: []byte("v"), TTL: 1<<63 - 1},
		{Class: "notes", Value: []byte("v"), TTL: -time.Second}, // not sent, as setTokenizeItem
		{Class: long + "ü"},
		{},
	}
}

func pbTokenizeRequest(items []TokenizeItem) *pb.TokenizeRequest {
	req := &pb.TokenizeRequest{}
	for _, it := range items {
		var m pb.TokenizeItem
		setTokenizeItem(&m, it)
		req.Items = append(req.Items, &m)
	}
	return req
}

func pbDetokenizeRequest(purpose string, items []DetokenizeItem) *pb.DetokenizeRequest {
	req := &pb.DetokenizeRequest{Purpose: purpose}
	for _, it := range items {
		var m pb.DetokenizeItem
		setDetokenizeItem(&m, it)
		req.Items = append(req.Items, &m)
	}
	return req
}

func marshalWire(t *testing.T, v any) []byte {
	t.Helper()
	data, err := wireCodec{}.Marshal(v)
	if err != nil {
		t.Fatalf("wireCodec.Marshal(%T) = %v", v, err)
	}
	defer data.Free()
	return data.Materialize()
}

// The direct calls write the bytes proto.Marshal writes for the same
// request, and their sizes are exact.
func TestWireMatchesProto(t *testing.T) {
	items := wireItems()
	det := []DetokenizeItem{
		{Class: "fpe", Token: "4111111111111111"},
		{Class: "account", Token: "98765432109", Context: "tenant-a", Tweak: []byte("tweak07"), SubjectID: "cust-7"},
		{Class: long, Token: long},
		{},
	}
	tests := []struct {
		name string
		wire any
		size int
		want proto.Message
	}{
		{"tokenize", mustTokenizeCall(t, items), mustTokenizeCall(t, items).size, pbTokenizeRequest(items)},
		{"tokenize, one item", mustTokenizeCall(t, items[:1]), mustTokenizeCall(t, items[:1]).size, pbTokenizeRequest(items[:1])},
		{"tokenize, no items", mustTokenizeCall(t, nil), 0, pbTokenizeRequest(nil)},
		{"detokenize", mustDetokenizeCall(t, "payment", det), mustDetokenizeCall(t, "payment", det).size, pbDetokenizeRequest("payment", det)},
		{"detokenize, no purpose", mustDetokenizeCall(t, "", det), mustDetokenizeCall(t, "", det).size, pbDetokenizeRequest("", det)},
		{"detokenize, no items", mustDetokenizeCall(t, "payment", nil), mustDetokenizeCall(t, "payment", nil).size, pbDetokenizeRequest("payment", nil)},
	}
	for _, tt := range tests {
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(tt.want)
		if err != nil {
			t.Fatal(err)
		}
		got := marshalWire(t, tt.wire)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: wire bytes =\n%x\nwant proto.Marshal's\n%x", tt.name, got, want)
		}
		if tt.size != len(want) {
			t.Errorf("%s: size = %d, want %d", tt.name, tt.size, len(want))
		}
	}
}

func mustTokenizeCall(t *testing.T, items []TokenizeItem) *tokenizeCall {
	t.Helper()
	c, ok := newTokenizeCall(items)
	if !ok {
		t.Fatalf("newTokenizeCall(%d items) refused valid items", len(items))
	}
	return c
}

func mustDetokenizeCall(t *testing.T, purpose string, items []DetokenizeItem) *detokenizeCall {
	t.Helper()
	c, ok := newDetokenizeCall(purpose, items)
	if !ok {
		t.Fatalf("newDetokenizeCall(%d items) refused valid items", len(items))
	}
	return c
}

// Strings that are not valid UTF-8 go the message path, where
// proto.Marshal refuses them as before.
func TestWireRefusesInvalidUTF8(t *testing.T) {
	bad := "\xff"
	tok := []TokenizeItem{{Class: bad}, {Class: "c", Context: bad}, {Class: "c", SubjectID: bad}}
	for i := range tok {
		if _, ok := newTokenizeCall([]TokenizeItem{{Class: "c"}, tok[i]}); ok {
			t.Errorf("newTokenizeCall(%+v) ok, want the message path", tok[i])
		}
	}
	det := []DetokenizeItem{{Class: bad}, {Class: "c", Token: bad}, {Class: "c", Context: bad}, {Class: "c", SubjectID: bad}}
	for i := range det {
		if _, ok := newDetokenizeCall("p", []DetokenizeItem{{Class: "c"}, det[i]}); ok {
			t.Errorf("newDetokenizeCall(%+v) ok, want the message path", det[i])
		}
	}
	if _, ok := newDetokenizeCall(bad, nil); ok {
		t.Errorf("newDetokenizeCall(purpose %q) ok, want the message path", bad)
	}
	if _, ok := newTokenizeCall([]TokenizeItem{{Class: "c", Value: []byte(bad), Tweak: []byte(bad)}}); !ok {
		t.Errorf("newTokenizeCall(value and tweak not UTF-8) refused, want ok: they are bytes")
	}
}

func itemErrStatus(t *testing.T) *spb.Status {
	t.Helper()
	info, err := anypb.New(&errdetails.ErrorInfo{Reason: ReasonTokenNotFound, Domain: "privacyvault.dev"})
	if err != nil {
		t.Fatal(err)
	}
	return &spb.Status{Code: int32(codes.NotFound), Message: "token not found", Details: []*anypb.Any{info}}
}

func tokenizeResponse(t *testing.T) *pb.TokenizeResponse {
	m := &pb.TokenizeResponse{}
	for _, tok := range []string{"pvt_0001", "", long, "4111111111111111"} {
		m.Results = append(m.Results, &pb.TokenizeResult{Result: &pb.TokenizeResult_Token{Token: tok}})
	}
	m.Results = append(m.Results, &pb.TokenizeResult{Result: &pb.TokenizeResult_Error{Error: itemErrStatus(t)}}, &pb.TokenizeResult{})
	return m
}

func detokenizeResponse(t *testing.T) *pb.DetokenizeResponse {
	m := &pb.DetokenizeResponse{}
	for _, rv := range []*pb.Revealed{
		{Value: []byte("4111111111111111"), Level: Plain},
		{Value: []byte("411111******1111"), Level: Masked},
		{Level: Redacted},
		{Value: []byte(long)},
		{},
		{Value: []byte("v"), Level: pb.RevealLevel(99)}, // a level this SDK does not know
	} {
		m.Results = append(m.Results, &pb.DetokenizeResult{Revealed: rv})
	}
	m.Results = append(m.Results,
		&pb.DetokenizeResult{Error: itemErrStatus(t)},
		&pb.DetokenizeResult{Revealed: &pb.Revealed{Value: []byte("v")}, Error: itemErrStatus(t)}, // the error wins
		&pb.DetokenizeResult{},
	)
	return m
}

// messageTokenResults is what the message path makes of a response.
func messageTokenResults(t *testing.T, b []byte, offset int) []TokenResult {
	t.Helper()
	var m pb.TokenizeResponse
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out, err := tokenResults(m.GetResults(), len(m.GetResults()), offset)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func messageRevealed(t *testing.T, b []byte, offset int) []Revealed {
	t.Helper()
	var m pb.DetokenizeResponse
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := make([]Revealed, len(m.GetResults()))
	for i, r := range m.GetResults() {
		out[i] = revealed(r, offset+i)
	}
	return out
}

// sameResults compares results, item errors by index and status.
func sameResults[R any](t *testing.T, name string, got, want []R) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d", name, len(got), len(want))
	}
	for i := range got {
		g, w := reflect.ValueOf(got[i]), reflect.ValueOf(want[i])
		for f := range g.NumField() {
			gf, wf := g.Field(f).Interface(), w.Field(f).Interface()
			if ge, ok := gf.(*ItemError); ok {
				we, _ := wf.(*ItemError)
				if we == nil || ge.Index != we.Index || !proto.Equal(ge.st.Proto(), we.st.Proto()) {
					t.Errorf("%s: result %d error = %v, want %v", name, i, gf, wf)
				}
				continue
			}
			if !reflect.DeepEqual(gf, wf) {
				t.Errorf("%s: result %d %s = %#v, want %#v", name, i, g.Type().Field(f).Name, gf, wf)
			}
		}
	}
}

// decodeWire decodes b with the codec into a reply of n items at offset.
func decodeWire[R any](t *testing.T, b []byte, r interface {
	wireReply
	results() ([]R, int)
}) ([]R, int, error) {
	t.Helper()
	err := wireCodec{}.Unmarshal(mem.BufferSlice{mem.SliceBuffer(bytes.Clone(b))}, r)
	out, got := r.results()
	return out, got, err
}

func (r *tokenizeReply) results() ([]TokenResult, int) { return r.out, r.got }
func (r *detokenizeReply) results() ([]Revealed, int)  { return r.out, r.got }

// The direct replies decode a response to the results the message path
// makes of it: tokens, item errors at their batch index, values and
// levels, empty results.
func TestWireDecodeMatchesMessagePath(t *testing.T) {
	tb, err := proto.Marshal(tokenizeResponse(t))
	if err != nil {
		t.Fatal(err)
	}
	db, err := proto.Marshal(detokenizeResponse(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, offset := range []int{0, 1000} {
		tr := &tokenizeReply{n: len(tokenizeResponse(t).Results), offset: offset}
		if !tr.decode(tb) {
			t.Fatalf("tokenizeReply.decode(canonical response) = false, want true")
		}
		sameResults(t, fmt.Sprintf("tokenize at offset %d", offset), tr.out, messageTokenResults(t, tb, offset))

		dr := &detokenizeReply{n: len(detokenizeResponse(t).Results), offset: offset}
		if !dr.decode(db) {
			t.Fatalf("detokenizeReply.decode(canonical response) = false, want true")
		}
		sameResults(t, fmt.Sprintf("detokenize at offset %d", offset), dr.out, messageRevealed(t, db, offset))
	}
	var empty []byte
	if r := (&tokenizeReply{}); !r.decode(empty) || r.got != 0 || len(r.out) != 0 {
		t.Errorf("tokenizeReply.decode(empty response) = %d results, got %d; want 0", len(r.out), r.got)
	}
}

// A response whose count differs from the items is reported by count,
// on both ways of decoding it.
func TestWireDecodeCountMismatch(t *testing.T) {
	tb, _ := proto.Marshal(tokenizeResponse(t))
	n := len(tokenizeResponse(t).Results)
	if _, got, err := decodeWire[TokenResult](t, tb, &tokenizeReply{n: n + 1}); err != nil || got != n {
		t.Errorf("decode(%d results for %d items) = got %d, %v; want got %d", n, n+1, got, err, n)
	}
	odd := protowire.AppendTag(bytes.Clone(tb), 9, protowire.VarintType) // unknown field: protobuf-go decodes
	odd = protowire.AppendVarint(odd, 1)
	if _, got, err := decodeWire[TokenResult](t, odd, &tokenizeReply{n: n + 1}); err != nil || got != n {
		t.Errorf("decode(%d results and an unknown field, %d items) = got %d, %v; want got %d", n, n+1, got, err, n)
	}
}

// Input the direct decoders do not handle goes to protobuf-go: results
// are the message path's, and an invalid response fails as it does there.
func TestWireDecodeLeavesOddInputToProtobuf(t *testing.T) {
	result := func(fields ...[]byte) []byte {
		body := bytes.Join(fields, nil)
		return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), body)
	}
	str := func(num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), s)
	}
	varint := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
	}
	tokenTests := []struct {
		name    string
		b       []byte
		wantErr bool
	}{
		{"token twice (the last wins)", result(str(1, "a"), str(1, "b")), false},
		{"token and error (the last wins)", result(str(1, "a"), str(2, "")), false},
		{"unknown field in a result", result(str(1, "a"), varint(7, 1)), false},
		{"unknown field in the response", append(result(str(1, "a")), varint(5, 1)...), false},
		{"token not UTF-8", result(str(1, "\xff")), true},
		{"truncated", result(str(1, "abc"))[:4], true},
	}
	for _, tt := range tokenTests {
		if (&tokenizeReply{n: 1}).decode(tt.b) {
			t.Errorf("%s: tokenizeReply.decode = true, want false (protobuf-go decides)", tt.name)
		}
		got, _, err := decodeWire[TokenResult](t, tt.b, &tokenizeReply{n: 1})
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: Unmarshal error = %v, want error %v", tt.name, err, tt.wantErr)
		}
		if err == nil {
			sameResults(t, tt.name, got, messageTokenResults(t, tt.b, 0))
		}
	}
	revealedMsg := func(fields ...[]byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), bytes.Join(fields, nil))
	}
	detTests := []struct {
		name    string
		b       []byte
		wantErr bool
	}{
		{"value twice", result(revealedMsg(str(1, "a"), str(1, "b"))), false},
		{"revealed twice (merged)", result(revealedMsg(str(1, "a")), revealedMsg(varint(2, 1))), false},
		{"level beyond int32", result(revealedMsg(varint(2, 1<<40))), false},
		{"unknown field in revealed", result(revealedMsg(varint(9, 1))), false},
		{"level with the wrong wire type (an unknown field)", result(revealedMsg(str(2, "x"))), false},
		{"truncated", result(revealedMsg(str(1, "abc")))[:5], true},
	}
	for _, tt := range detTests {
		if (&detokenizeReply{n: 1}).decode(tt.b) {
			t.Errorf("%s: detokenizeReply.decode = true, want false (protobuf-go decides)", tt.name)
		}
		got, _, err := decodeWire[Revealed](t, tt.b, &detokenizeReply{n: 1})
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: Unmarshal error = %v, want error %v", tt.name, err, tt.wantErr)
		}
		if err == nil {
			sameResults(t, tt.name, got, messageRevealed(t, tt.b, 0))
		}
	}
}

// Decoded values are cut from one copy of the response: appending to one
// does not write over the next, and the response's buffer may be reused.
func TestWireValuesOwnTheirMemory(t *testing.T) {
	db, _ := proto.Marshal(detokenizeResponse(t))
	buf := bytes.Clone(db)
	r := &detokenizeReply{n: len(detokenizeResponse(t).Results)}
	if !r.decode(buf) {
		t.Fatal("decode = false")
	}
	_ = append(r.out[0].Value, "XXXX"...)
	for i := range buf {
		buf[i] = 0
	}
	if got := string(r.out[1].Value); got != "411111******1111" {
		t.Errorf("value 1 after appending to value 0 and clearing the buffer = %q, want 411111******1111", got)
	}
	if st := status.Convert(r.out[6].Err); st.Code() != codes.NotFound {
		t.Errorf("item 6 error code = %v, want NotFound", st.Code())
	}
}

// Only Dial without dial options takes the direct path: dial options may
// bring interceptors that expect protobuf messages.
func TestDirectOnlyWithoutDialOptions(t *testing.T) {
	plain, err := Dial("127.0.0.1:1", WithInsecure(), WithBearerToken("t"), WithMaxBatch(5))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	withOpts, err := Dial("127.0.0.1:1", WithInsecure(), WithDialOptions(grpc.WithUserAgent("x")))
	if err != nil {
		t.Fatal(err)
	}
	defer withOpts.Close()
	tests := []struct {
		name string
		c    *Client
		want bool
	}{
		{"Dial", plain, true},
		{"Dial WithDialOptions", withOpts, false},
		{"New", New(plain.Conn()), false},
	}
	for _, tt := range tests {
		if tt.c.direct != tt.want {
			t.Errorf("%s: direct = %v, want %v", tt.name, tt.c.direct, tt.want)
		}
	}
}

// BenchmarkWireDecode decodes responses of 1,000 results shaped like the
// bench's: 16-digit tokens and values.
func BenchmarkWireDecode(b *testing.B) {
	tresp, dresp := &pb.TokenizeResponse{}, &pb.DetokenizeResponse{}
	for i := range 1000 {
		v := fmt.Sprintf("%016d", i*7919)
		tresp.Results = append(tresp.Results, &pb.TokenizeResult{Result: &pb.TokenizeResult_Token{Token: v}})
		dresp.Results = append(dresp.Results, &pb.DetokenizeResult{Revealed: &pb.Revealed{Value: []byte(v), Level: Plain}})
	}
	tb, _ := proto.Marshal(tresp)
	db, _ := proto.Marshal(dresp)
	b.Run("tokenize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !(&tokenizeReply{n: 1000}).decode(tb) {
				b.Fatal("decode = false")
			}
		}
	})
	b.Run("detokenize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !(&detokenizeReply{n: 1000}).decode(db) {
				b.Fatal("decode = false")
			}
		}
	})
}
