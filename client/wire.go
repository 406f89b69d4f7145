package client

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/privacyvault/privacyvault/internal/batchcodec"
	"github.com/privacyvault/privacyvault/internal/wirefield"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// The batch calls of a Client made by Dial go straight from the SDK's
// items to protobuf's wire format and from the response's bytes to the
// SDK's results, without protobuf messages in between: the client of a
// batch of 1,000 otherwise builds 1,000 request messages and decodes
// 1,000 result messages only to copy them once more, and on a machine
// where the caller and the sidecar share the cores that cost about as
// much as the sidecar's crypto. The bytes are those proto.Marshal writes
// (TestWireMatchesProto); a response they do not decode — unknown
// fields, a field twice, invalid UTF-8 — goes to protobuf-go and the
// message path, so results and errors stay what that path gives.
//
// Only a Client made by Dial without WithDialOptions takes this path: a
// caller's interceptors and stats handlers may expect protobuf messages
// as the request and reply, and see them on the message path.

// wireCodec is the codec of the direct calls: tokenizeCall,
// detokenizeCall and their replies; any other message goes to
// internal/batchcodec.
type wireCodec struct{}

var _ encoding.CodecV2 = wireCodec{}

// wireCall is the call option of the direct calls.
var wireCall = grpc.ForceCodecV2(wireCodec{})

// Name implements encoding.CodecV2: it is the protobuf codec.
func (wireCodec) Name() string { return batchcodec.Name }

// Marshal implements encoding.CodecV2.
func (wireCodec) Marshal(v any) (mem.BufferSlice, error) {
	var (
		size int
		fill func([]byte) []byte
	)
	switch m := v.(type) {
	case *tokenizeCall:
		size, fill = m.size, m.append
	case *detokenizeCall:
		size, fill = m.size, m.append
	default:
		return batchcodec.Codec{}.Marshal(v)
	}
	if mem.IsBelowBufferPoolingThreshold(size) {
		return mem.BufferSlice{mem.SliceBuffer(fill(make([]byte, 0, size)))}, nil
	}
	pool := mem.DefaultBufferPool()
	buf := pool.Get(size)
	*buf = fill((*buf)[:0])
	return mem.BufferSlice{mem.NewBuffer(buf, pool)}, nil
}

// Unmarshal implements encoding.CodecV2.
func (wireCodec) Unmarshal(data mem.BufferSlice, v any) error {
	r, ok := v.(wireReply)
	if !ok {
		return batchcodec.Codec{}.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	b := buf.ReadOnlyData()
	if r.decode(b) {
		return nil
	}
	return r.decodeProto(b)
}

// wireReply is the reply of a direct call.
type wireReply interface {
	// decode decodes canonical input, reporting false for anything else
	// (the reply is then left to decodeProto).
	decode(b []byte) bool
	// decodeProto decodes b with protobuf-go and converts the message.
	decodeProto(b []byte) error
}

// copies holds one copy each, made on first use, of a response's bytes
// as a string (for tokens) and as bytes (for values): a value cut out of
// them costs no allocation of its own. A value kept keeps the whole copy
// alive; a batch's results are used together.
type copies struct {
	b     []byte // the response, in gRPC's buffer
	text  string
	bytes []byte
}

// str returns v, the field value ending at offset e of c.b, as a string.
func (c *copies) str(v []byte, e int) string {
	if len(v) == 0 {
		return ""
	}
	if c.text == "" {
		c.text = string(c.b)
	}
	return c.text[e-len(v) : e]
}

// byteField returns v, ending at offset e, as bytes: nil when empty (as
// protobuf-go decodes it), its capacity its length.
func (c *copies) byteField(v []byte, e int) []byte {
	if len(v) == 0 {
		return nil
	}
	if c.bytes == nil {
		c.bytes = append([]byte(nil), c.b...)
	}
	return c.bytes[e-len(v) : e : e]
}

// itemStatus decodes a per-item error.
func itemStatus(v []byte, index int) (error, bool) {
	st := new(spb.Status)
	if proto.Unmarshal(v, st) != nil {
		return nil, false
	}
	return &ItemError{Index: index, st: status.FromProto(st)}, true
}

// sizeStr is the size of a string or bytes field of n bytes (0 when empty:
// proto3 writes no empty scalar).
func sizeStr(n int) int {
	if n == 0 {
		return 0
	}
	return 1 + protowire.SizeBytes(n) // field numbers below 16: a 1-byte tag
}

// validStrings reports whether the strings of an item are valid UTF-8
// (proto.Marshal refuses them otherwise); last is the class of the item
// before, checked already.
func validStrings(class, last string, others ...string) bool {
	if class != last && !utf8.ValidString(class) {
		return false
	}
	for _, s := range others {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// tokenizeCall is a TokenizeRequest of items.
type tokenizeCall struct {
	items []TokenizeItem
	size  int
}

// newTokenizeCall returns the call of items, ok false when the message
// path must send them (a string that is not valid UTF-8).
func newTokenizeCall(items []TokenizeItem) (*tokenizeCall, bool) {
	c := &tokenizeCall{items: items}
	last := ""
	for i := range items {
		it := &items[i]
		if !validStrings(it.Class, last, it.Context, it.SubjectID) {
			return nil, false
		}
		last = it.Class
		body := tokenizeItemSize(it)
		c.size += 1 + protowire.SizeBytes(body)
	}
	return c, true
}

// TokenizeRequest: items = 1. TokenizeItem: class = 1, value = 2,
// context = 3, tweak = 4, subject_id = 5, ttl = 6 (a Duration: seconds =
// 1, nanos = 2).

func tokenizeItemSize(it *TokenizeItem) int {
	n := sizeStr(len(it.Class)) + sizeStr(len(it.Value)) + sizeStr(len(it.Context)) + sizeStr(len(it.Tweak)) + sizeStr(len(it.SubjectID))
	if it.TTL > 0 {
		n += sizeStr(durationSize(it.TTL))
	}
	return n
}

// durationParts splits d as durationpb.New does.
func durationParts(d time.Duration) (secs, nanos int64) {
	secs = int64(d / time.Second)
	return secs, int64(d - time.Duration(secs)*time.Second)
}

// durationSize is the size of a Duration message of d > 0.
func durationSize(d time.Duration) int {
	secs, nanos := durationParts(d)
	n := 0
	if secs != 0 {
		n += 1 + protowire.SizeVarint(uint64(secs))
	}
	if nanos != 0 {
		n += 1 + protowire.SizeVarint(uint64(nanos))
	}
	return n
}

func (c *tokenizeCall) append(b []byte) []byte {
	for i := range c.items {
		it := &c.items[i]
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(tokenizeItemSize(it)))
		b = wirefield.AppendString(b, 1, it.Class)
		b = wirefield.AppendBytes(b, 2, it.Value)
		b = wirefield.AppendString(b, 3, it.Context)
		b = wirefield.AppendBytes(b, 4, it.Tweak)
		b = wirefield.AppendString(b, 5, it.SubjectID)
		if it.TTL > 0 {
			b = protowire.AppendTag(b, 6, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(durationSize(it.TTL)))
			secs, nanos := durationParts(it.TTL)
			if secs != 0 {
				b = protowire.AppendTag(b, 1, protowire.VarintType)
				b = protowire.AppendVarint(b, uint64(secs))
			}
			if nanos != 0 {
				b = protowire.AppendTag(b, 2, protowire.VarintType)
				b = protowire.AppendVarint(b, uint64(nanos))
			}
		}
	}
	return b
}

// tokenizeWire sends call; its first item is item offset of the
// caller's batch.
func (c *Client) tokenizeWire(ctx context.Context, call *tokenizeCall, offset int) ([]TokenResult, error) {
	r := tokenizeReply{n: len(call.items), offset: offset}
	if err := c.conn.Invoke(ctx, pb.TokenService_Tokenize_FullMethodName, call, &r, wireCall); err != nil {
		return nil, err
	}
	if r.got != r.n {
		return nil, fmt.Errorf("client: server returned %d results for %d items", r.got, r.n)
	}
	return r.out, nil
}

// tokenizeReply is the response of a tokenizeCall of n items, whose
// first is item offset of the caller's batch.
type tokenizeReply struct {
	n, offset int
	got       int // the number of results
	out       []TokenResult
}

// TokenizeResponse: results = 1. TokenizeResult: token = 1, error = 2
// (a oneof).

func (r *tokenizeReply) decode(b []byte) bool {
	n, ok := wirefield.Count(b, 1)
	if !ok {
		return false
	}
	if r.got = n; n != r.n {
		return true
	}
	out := make([]TokenResult, n)
	c := copies{b: b}
	for i := range out {
		_, v, rest, _ := wirefield.Field(b)
		b = rest
		if len(v) == 0 {
			continue // neither member set: no token and no error
		}
		num, fv, frest, ok := wirefield.Field(v)
		if !ok || len(frest) > 0 {
			return false // a field twice, or an unknown one
		}
		switch num {
		case 1:
			if !utf8.Valid(fv) {
				return false
			}
			out[i].Token = c.str(fv, len(c.b)-len(rest)-len(frest))
		case 2:
			if out[i].Err, ok = itemStatus(fv, r.offset+i); !ok {
				return false
			}
		default:
			return false
		}
	}
	r.out = out
	return true
}

func (r *tokenizeReply) decodeProto(b []byte) error {
	var m pb.TokenizeResponse
	if err := proto.Unmarshal(b, &m); err != nil {
		return err
	}
	if r.got = len(m.Results); r.got != r.n {
		return nil
	}
	out, err := tokenResults(m.GetResults(), r.n, r.offset)
	r.out = out
	return err
}

// DetokenizeRequest: purpose = 1, items = 2. DetokenizeItem: class = 1,
// token = 2, context = 3, tweak = 4, subject_id = 5.

// detokenizeCall is a DetokenizeRequest for purpose of items.
type detokenizeCall struct {
	purpose string
	items   []DetokenizeItem
	size    int
}

// newDetokenizeCall returns the call, ok false when the message path must
// send it (a string that is not valid UTF-8).
func newDetokenizeCall(purpose string, items []DetokenizeItem) (*detokenizeCall, bool) {
	if !utf8.ValidString(purpose) {
		return nil, false
	}
	c := &detokenizeCall{purpose: purpose, items: items, size: sizeStr(len(purpose))}
	last := ""
	for i := range items {
		it := &items[i]
		if !validStrings(it.Class, last, it.Token, it.Context, it.SubjectID) {
			return nil, false
		}
		last = it.Class
		c.size += 1 + protowire.SizeBytes(detokenizeItemSize(it))
	}
	return c, true
}

func detokenizeItemSize(it *DetokenizeItem) int {
	return sizeStr(len(it.Class)) + sizeStr(len(it.Token)) + sizeStr(len(it.Context)) + sizeStr(len(it.Tweak)) + sizeStr(len(it.SubjectID))
}

func (c *detokenizeCall) append(b []byte) []byte {
	b = wirefield.AppendString(b, 1, c.purpose)
	for i := range c.items {
		it := &c.items[i]
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(detokenizeItemSize(it)))
		b = wirefield.AppendString(b, 1, it.Class)
		b = wirefield.AppendString(b, 2, it.Token)
		b = wirefield.AppendString(b, 3, it.Context)
		b = wirefield.AppendBytes(b, 4, it.Tweak)
		b = wirefield.AppendString(b, 5, it.SubjectID)
	}
	return b
}

// detokenizeWire sends call, as tokenizeWire.
func (c *Client) detokenizeWire(ctx context.Context, call *detokenizeCall, offset int) ([]Revealed, error) {
	r := detokenizeReply{n: len(call.items), offset: offset}
	if err := c.conn.Invoke(ctx, pb.TokenService_Detokenize_FullMethodName, call, &r, wireCall); err != nil {
		return nil, err
	}
	if r.got != r.n {
		return nil, fmt.Errorf("client: server returned %d results for %d items", r.got, r.n)
	}
	return r.out, nil
}

// detokenizeReply is the response of a detokenizeCall, as tokenizeReply.
type detokenizeReply struct {
	n, offset int
	got       int
	out       []Revealed
}

// DetokenizeResponse: results = 1. DetokenizeResult: revealed = 1,
// error = 2. Revealed: value = 1, level = 2 (an enum).

func (r *detokenizeReply) decode(b []byte) bool {
	n, ok := wirefield.Count(b, 1)
	if !ok {
		return false
	}
	if r.got = n; n != r.n {
		return true
	}
	out := make([]Revealed, n)
	c := copies{b: b}
	for i := range out {
		_, v, rest, _ := wirefield.Field(b)
		b = rest
		// v ends at offset e of the response.
		if !decodeDetokenizeResult(&c, v, len(c.b)-len(rest), &out[i], r.offset+i) {
			return false
		}
	}
	r.out = out
	return true
}

// decodeDetokenizeResult decodes b, which ends at offset at of the
// response. An error wins over a value, as in revealed.
func decodeDetokenizeResult(c *copies, b []byte, at int, out *Revealed, index int) bool {
	var seen [3]bool
	var rv Revealed
	var itemErr error
	for len(b) > 0 {
		num, v, rest, ok := wirefield.Field(b)
		if !ok || num > 2 || seen[num] {
			return false
		}
		seen[num], b = true, rest
		switch num {
		case 1:
			if !decodeRevealed(c, v, at-len(rest), &rv) {
				return false
			}
		case 2:
			if itemErr, ok = itemStatus(v, index); !ok {
				return false
			}
		default:
			return false
		}
	}
	if itemErr != nil {
		*out = Revealed{Err: itemErr}
		return true
	}
	*out = rv
	return true
}

// decodeRevealed decodes b, which ends at offset at of the response.
func decodeRevealed(c *copies, b []byte, at int, rv *Revealed) bool {
	var seen [3]bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num < 1 || num > 2 || seen[num] {
			return false
		}
		seen[num], b = true, b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return false
			}
			b = b[m:]
			rv.Value = c.byteField(v, at-len(b))
		case num == 2 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			// An enum is an int32: protobuf-go decides a larger varint.
			if m < 0 || int64(v) != int64(int32(v)) {
				return false
			}
			rv.Level, b = Level(int32(v)), b[m:]
		default:
			return false
		}
	}
	return true
}

func (r *detokenizeReply) decodeProto(b []byte) error {
	var m pb.DetokenizeResponse
	if err := proto.Unmarshal(b, &m); err != nil {
		return err
	}
	if r.got = len(m.Results); r.got != r.n {
		return nil
	}
	r.out = make([]Revealed, r.n)
	for i, res := range m.GetResults() {
		r.out[i] = revealed(res, r.offset+i)
	}
	return nil
}
