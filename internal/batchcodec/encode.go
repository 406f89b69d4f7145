package batchcodec

import (
	"unicode/utf8"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/privacyvault/privacyvault/internal/wirefield"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// Each message has a size function, which also decides whether the hand
// path can encode it (ok false: protobuf-go must), and an append function
// writing the same fields in field-number order, as proto.Marshal does.
// Proto3 scalars are written only when not zero; a oneof member and a
// message field whenever they are set.

// sizeString is the size of a proto3 string field. A size function checks
// the string is valid UTF-8 first: proto.Marshal refuses it otherwise.
func sizeString(num protowire.Number, s string) int {
	if s == "" {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(len(s))
}

func sizeBytes(num protowire.Number, b []byte) int {
	if len(b) == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(len(b))
}

// sizeMessage is the size of a message field holding body bytes.
func sizeMessage(num protowire.Number, body int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(body)
}

func appendMessageHeader(b []byte, num protowire.Number, body int) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendVarint(b, uint64(body))
}

// appendStatus writes a per-item error with protobuf-go (errors are rare,
// and a status may carry any detail). Its error (invalid UTF-8 in the
// message) makes the codec leave the whole message to protobuf-go, which
// fails the same way.
func appendStatus(b []byte, num protowire.Number, st *spb.Status) ([]byte, error) {
	b = appendMessageHeader(b, num, proto.Size(st))
	return proto.MarshalOptions{}.MarshalAppend(b, st)
}

// TokenizeRequest: items = 1.

func sizeTokenizeRequest(m *pb.TokenizeRequest) (int, bool) {
	if !tokenizeRequestUnknowns.plain(m) {
		return 0, false
	}
	n := 0
	for _, it := range m.Items {
		body, ok := sizeTokenizeItem(it)
		if !ok {
			return 0, false
		}
		n += sizeMessage(1, body)
	}
	return n, true
}

func appendTokenizeRequest(b []byte, m *pb.TokenizeRequest) []byte {
	for _, it := range m.Items {
		b = appendMessageHeader(b, 1, tokenizeItemBody(it))
		b = appendTokenizeItem(b, it)
	}
	return b
}

// TokenizeItem: class = 1, value = 2, context = 3, tweak = 4,
// subject_id = 5, ttl = 6 (an item with a TTL goes to protobuf-go).

func sizeTokenizeItem(it *pb.TokenizeItem) (int, bool) {
	ok := it != nil && it.Ttl == nil && tokenizeItemUnknowns.plain(it) &&
		utf8.ValidString(it.Class) && utf8.ValidString(it.Context) && utf8.ValidString(it.SubjectId)
	if !ok {
		return 0, false
	}
	return tokenizeItemBody(it), true
}

// tokenizeItemBody is the size of an item sizeTokenizeItem accepted.
func tokenizeItemBody(it *pb.TokenizeItem) int {
	return sizeString(1, it.Class) + sizeBytes(2, it.Value) + sizeString(3, it.Context) + sizeBytes(4, it.Tweak) + sizeString(5, it.SubjectId)
}

func appendTokenizeItem(b []byte, it *pb.TokenizeItem) []byte {
	b = wirefield.AppendString(b, 1, it.Class)
	b = wirefield.AppendBytes(b, 2, it.Value)
	b = wirefield.AppendString(b, 3, it.Context)
	b = wirefield.AppendBytes(b, 4, it.Tweak)
	return wirefield.AppendString(b, 5, it.SubjectId)
}

// TokenizeResponse: results = 1.

func sizeTokenizeResponse(m *pb.TokenizeResponse) (int, bool) {
	if !tokenizeResponseUnknowns.plain(m) {
		return 0, false
	}
	n := 0
	for _, r := range m.Results {
		body, ok := sizeTokenizeResult(r)
		if !ok {
			return 0, false
		}
		n += sizeMessage(1, body)
	}
	return n, true
}

func appendTokenizeResponse(b []byte, m *pb.TokenizeResponse) ([]byte, error) {
	var err error
	for _, r := range m.Results {
		b = appendMessageHeader(b, 1, tokenizeResultBody(r))
		if b, err = appendTokenizeResult(b, r); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// TokenizeResult: oneof result { token = 1, error = 2 }.

func sizeTokenizeResult(r *pb.TokenizeResult) (int, bool) {
	if r == nil || !tokenizeResultUnknowns.plain(r) {
		return 0, false
	}
	switch v := r.Result.(type) {
	case nil:
	case *pb.TokenizeResult_Token:
		if v == nil || !utf8.ValidString(v.Token) {
			return 0, false
		}
	case *pb.TokenizeResult_Error:
		if v == nil || v.Error == nil {
			return 0, false
		}
	default:
		return 0, false
	}
	return tokenizeResultBody(r), true
}

// tokenizeResultBody is the size of a result sizeTokenizeResult accepted.
func tokenizeResultBody(r *pb.TokenizeResult) int {
	switch v := r.Result.(type) {
	case *pb.TokenizeResult_Token:
		return sizeMessage(1, len(v.Token)) // a oneof member is written even when empty
	case *pb.TokenizeResult_Error:
		return sizeMessage(2, proto.Size(v.Error))
	}
	return 0
}

func appendTokenizeResult(b []byte, r *pb.TokenizeResult) ([]byte, error) {
	switch v := r.Result.(type) {
	case *pb.TokenizeResult_Token:
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		return protowire.AppendString(b, v.Token), nil
	case *pb.TokenizeResult_Error:
		return appendStatus(b, 2, v.Error)
	}
	return b, nil
}

// DetokenizeRequest: purpose = 1, items = 2.

func sizeDetokenizeRequest(m *pb.DetokenizeRequest) (int, bool) {
	if !detokenizeRequestUnknowns.plain(m) {
		return 0, false
	}
	if !utf8.ValidString(m.Purpose) {
		return 0, false
	}
	n := sizeString(1, m.Purpose)
	for _, it := range m.Items {
		body, ok := sizeDetokenizeItem(it)
		if !ok {
			return 0, false
		}
		n += sizeMessage(2, body)
	}
	return n, true
}

func appendDetokenizeRequest(b []byte, m *pb.DetokenizeRequest) []byte {
	b = wirefield.AppendString(b, 1, m.Purpose)
	for _, it := range m.Items {
		b = appendMessageHeader(b, 2, detokenizeItemBody(it))
		b = appendDetokenizeItem(b, it)
	}
	return b
}

// DetokenizeItem: class = 1, token = 2, context = 3, tweak = 4,
// subject_id = 5.

func sizeDetokenizeItem(it *pb.DetokenizeItem) (int, bool) {
	ok := it != nil && detokenizeItemUnknowns.plain(it) && utf8.ValidString(it.Class) && utf8.ValidString(it.Token) &&
		utf8.ValidString(it.Context) && utf8.ValidString(it.SubjectId)
	if !ok {
		return 0, false
	}
	return detokenizeItemBody(it), true
}

// detokenizeItemBody is the size of an item sizeDetokenizeItem accepted.
func detokenizeItemBody(it *pb.DetokenizeItem) int {
	return sizeString(1, it.Class) + sizeString(2, it.Token) + sizeString(3, it.Context) + sizeBytes(4, it.Tweak) + sizeString(5, it.SubjectId)
}

func appendDetokenizeItem(b []byte, it *pb.DetokenizeItem) []byte {
	b = wirefield.AppendString(b, 1, it.Class)
	b = wirefield.AppendString(b, 2, it.Token)
	b = wirefield.AppendString(b, 3, it.Context)
	b = wirefield.AppendBytes(b, 4, it.Tweak)
	return wirefield.AppendString(b, 5, it.SubjectId)
}

// DetokenizeResponse: results = 1.

func sizeDetokenizeResponse(m *pb.DetokenizeResponse) (int, bool) {
	if !detokenizeResponseUnknowns.plain(m) {
		return 0, false
	}
	n := 0
	for _, r := range m.Results {
		body, ok := sizeDetokenizeResult(r)
		if !ok {
			return 0, false
		}
		n += sizeMessage(1, body)
	}
	return n, true
}

func appendDetokenizeResponse(b []byte, m *pb.DetokenizeResponse) ([]byte, error) {
	var err error
	for _, r := range m.Results {
		b = appendMessageHeader(b, 1, detokenizeResultBody(r))
		if b, err = appendDetokenizeResult(b, r); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// DetokenizeResult: revealed = 1, error = 2.

func sizeDetokenizeResult(r *pb.DetokenizeResult) (int, bool) {
	if r == nil || !detokenizeResultUnknowns.plain(r) || r.Revealed != nil && !revealedUnknowns.plain(r.Revealed) {
		return 0, false
	}
	return detokenizeResultBody(r), true
}

// detokenizeResultBody is the size of a result sizeDetokenizeResult
// accepted.
func detokenizeResultBody(r *pb.DetokenizeResult) int {
	n := 0
	if r.Revealed != nil {
		n += sizeMessage(1, sizeRevealed(r.Revealed))
	}
	if r.Error != nil {
		n += sizeMessage(2, proto.Size(r.Error))
	}
	return n
}

func appendDetokenizeResult(b []byte, r *pb.DetokenizeResult) ([]byte, error) {
	if r.Revealed != nil {
		b = appendMessageHeader(b, 1, sizeRevealed(r.Revealed))
		b = wirefield.AppendBytes(b, 1, r.Revealed.Value)
		if r.Revealed.Level != 0 {
			b = protowire.AppendTag(b, 2, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(r.Revealed.Level))
		}
	}
	if r.Error != nil {
		return appendStatus(b, 2, r.Error)
	}
	return b, nil
}

// Revealed: value = 1, level = 2 (an enum: a varint of its int32,
// sign-extended).

func sizeRevealed(r *pb.Revealed) int {
	n := sizeBytes(1, r.Value)
	if r.Level != 0 {
		n += protowire.SizeTag(2) + protowire.SizeVarint(uint64(r.Level))
	}
	return n
}
