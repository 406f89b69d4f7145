package batchcodec

import (
	"bytes"
	"unicode/utf8"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/privacyvault/privacyvault/internal/wirefield"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// The decoders fill a message from canonical input and report false for
// anything else — an unknown field, a field twice in one message, a wrong
// wire type, invalid UTF-8 in a string, a truncated length — leaving the
// message to protobuf-go, which resets it and decides. So they never
// have to merge repeated message fields or keep unknown fields, and a
// message they return equals what proto.Unmarshal returns. The items of
// a batch are allocated in one slice each; strings and bytes are cut out
// of one copy of the whole message each (wire), because the gRPC buffer
// is reused after the call.

// fresh reports whether a field is new in its message: seen holds one bit per
// field number up to 63.
func fresh(seen *uint64, num protowire.Number) bool {
	if num >= 64 || *seen&(1<<num) != 0 {
		return false
	}
	*seen |= 1 << num
	return true
}

// wire is a message being decoded. Its string and bytes fields are cut
// out of one copy of the whole message each, made on first use, instead
// of one allocation per field: a batch of 1,000 items otherwise costs
// 1,000 allocations per direction, and as many objects for the collector.
// A field is found by where it ends: the decoders consume a buffer
// front to back, so a field's value ends where the rest of its buffer
// starts (wire.end). The price is that one value kept keeps the whole
// copy alive: a batch's results are used together anyway, and what the
// server keeps beyond a call (class names, the purpose) gets its own copy.
type wire struct {
	b     []byte // the message as received, in gRPC's buffer
	text  string // string(b), for string fields
	bytes []byte // a copy of b, for bytes fields
}

// end is the offset in the message of the end of the field whose value
// rest follows, rest being a suffix of a buffer that ends at offset at.
func end(at int, rest []byte) int { return at - len(rest) }

// str returns the string field v ending at offset e, ok false for invalid
// UTF-8 (proto.Unmarshal refuses it).
func (w *wire) str(v []byte, e int) (string, bool) {
	if !utf8.Valid(v) {
		return "", false
	}
	if len(v) == 0 {
		return "", true
	}
	if w.text == "" {
		w.text = string(w.b)
	}
	return w.text[e-len(v) : e], true
}

// interned returns v as a string, reusing *last when it is equal: the
// items of a batch are mostly of one class. A new class gets its own copy,
// so a request whose only strings are its classes is not copied whole.
func interned(last *string, v []byte) (string, bool) {
	if string(v) == *last { // compared without a copy
		return *last, true
	}
	s, ok := string(v), utf8.Valid(v)
	*last = s
	return s, ok
}

// byteField returns the bytes field v ending at offset e: nil when empty,
// as protobuf-go decodes it. Its capacity is its length, so appending to
// one value never writes over the next.
func (w *wire) byteField(v []byte, e int) []byte {
	if len(v) == 0 {
		return nil
	}
	if w.bytes == nil {
		w.bytes = bytes.Clone(w.b)
	}
	return w.bytes[e-len(v) : e : e]
}

// repeated decodes b, the n fields that count found (b ends where w.b
// does), into one slab of messages: dec decodes the i-th field's value v,
// which ends at offset e of w, into m. No fields give nil, as protobuf-go
// decodes them.
func repeated[T any](w *wire, b []byte, n int, dec func(i int, v []byte, e int, m *T) bool) ([]*T, bool) {
	if n == 0 {
		return nil, true
	}
	out := make([]*T, n)
	slab := make([]T, n)
	for i := range out {
		_, v, rest, _ := wirefield.Field(b)
		b = rest
		if !dec(i, v, end(len(w.b), rest), &slab[i]) {
			return nil, false
		}
		out[i] = &slab[i]
	}
	return out, true
}

func status(v []byte) (*spb.Status, bool) {
	st := new(spb.Status)
	return st, proto.Unmarshal(v, st) == nil
}

func decodeTokenizeRequest(b []byte, m *pb.TokenizeRequest) bool {
	n, ok := wirefield.Count(b, 1)
	if !ok {
		return false
	}
	w := &wire{b: b}
	var class string
	items, ok := repeated(w, b, n, func(_ int, v []byte, e int, it *pb.TokenizeItem) bool {
		return decodeTokenizeItem(w, v, e, it, &class)
	})
	if !ok {
		return false
	}
	m.Items = items
	return true
}

// decodeTokenizeItem decodes the item b, which ends at offset at of w.
func decodeTokenizeItem(w *wire, b []byte, at int, it *pb.TokenizeItem, class *string) bool {
	var seen uint64
	for len(b) > 0 {
		num, v, rest, ok := wirefield.Field(b)
		if !ok || !fresh(&seen, num) {
			return false
		}
		b = rest
		e := end(at, rest)
		switch num {
		case 1:
			it.Class, ok = interned(class, v)
		case 2:
			it.Value = w.byteField(v, e)
		case 3:
			it.Context, ok = w.str(v, e)
		case 4:
			it.Tweak = w.byteField(v, e)
		case 5:
			it.SubjectId, ok = w.str(v, e)
		default: // ttl (6) and unknown fields
			ok = false
		}
		if !ok {
			return false
		}
	}
	return true
}

func decodeTokenizeResponse(b []byte, m *pb.TokenizeResponse) bool {
	n, ok := wirefield.Count(b, 1)
	if !ok {
		return false
	}
	w := &wire{b: b}
	var tokens []pb.TokenizeResult_Token
	if n > 0 {
		tokens = make([]pb.TokenizeResult_Token, n)
	}
	results, ok := repeated(w, b, n, func(i int, v []byte, e int, r *pb.TokenizeResult) bool {
		return decodeTokenizeResult(w, v, e, r, &tokens[i])
	})
	if !ok {
		return false
	}
	m.Results = results
	return true
}

// decodeTokenizeResult decodes a result (ending at offset at of w) with
// at most one member of its oneof set (with both, the last would win:
// protobuf-go decides).
func decodeTokenizeResult(w *wire, b []byte, at int, r *pb.TokenizeResult, tok *pb.TokenizeResult_Token) bool {
	if len(b) == 0 {
		return true
	}
	num, v, rest, ok := wirefield.Field(b)
	if !ok || len(rest) > 0 {
		return false
	}
	switch num {
	case 1:
		tok.Token, ok = w.str(v, end(at, rest))
		r.Result = tok
	case 2:
		var st *spb.Status
		st, ok = status(v)
		r.Result = &pb.TokenizeResult_Error{Error: st}
	default:
		ok = false
	}
	return ok
}

func decodeDetokenizeRequest(b []byte, m *pb.DetokenizeRequest) bool {
	// The purpose comes first (proto.Marshal writes fields in number
	// order), then the items.
	w := &wire{b: b}
	// The purpose gets a copy of its own, as a class does: the server
	// keeps purposes (quota counters, metric labels), and one kept
	// substring would keep the whole message.
	var purpose string
	if num, v, rest, ok := wirefield.Field(b); ok && num == 1 {
		if purpose, ok = string(v), utf8.Valid(v); !ok {
			return false
		}
		b = rest
	}
	n, ok := wirefield.Count(b, 2)
	if !ok {
		return false
	}
	var class string
	items, ok := repeated(w, b, n, func(_ int, v []byte, e int, it *pb.DetokenizeItem) bool {
		return decodeDetokenizeItem(w, v, e, it, &class)
	})
	if !ok {
		return false
	}
	m.Purpose, m.Items = purpose, items
	return true
}

// decodeDetokenizeItem decodes the item b, which ends at offset at of w.
func decodeDetokenizeItem(w *wire, b []byte, at int, it *pb.DetokenizeItem, class *string) bool {
	var seen uint64
	for len(b) > 0 {
		num, v, rest, ok := wirefield.Field(b)
		if !ok || !fresh(&seen, num) {
			return false
		}
		b = rest
		e := end(at, rest)
		switch num {
		case 1:
			it.Class, ok = interned(class, v)
		case 2:
			it.Token, ok = w.str(v, e)
		case 3:
			it.Context, ok = w.str(v, e)
		case 4:
			it.Tweak = w.byteField(v, e)
		case 5:
			it.SubjectId, ok = w.str(v, e)
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
	return true
}

func decodeDetokenizeResponse(b []byte, m *pb.DetokenizeResponse) bool {
	n, ok := wirefield.Count(b, 1)
	if !ok {
		return false
	}
	w := &wire{b: b}
	var revealed []pb.Revealed
	if n > 0 {
		revealed = make([]pb.Revealed, n)
	}
	results, ok := repeated(w, b, n, func(i int, v []byte, e int, r *pb.DetokenizeResult) bool {
		return decodeDetokenizeResult(w, v, e, r, &revealed[i])
	})
	if !ok {
		return false
	}
	m.Results = results
	return true
}

// decodeDetokenizeResult decodes the result b, which ends at offset at of
// w.
func decodeDetokenizeResult(w *wire, b []byte, at int, r *pb.DetokenizeResult, rv *pb.Revealed) bool {
	var seen uint64
	for len(b) > 0 {
		num, v, rest, ok := wirefield.Field(b)
		if !ok || !fresh(&seen, num) {
			return false
		}
		b = rest
		switch num {
		case 1:
			ok = decodeRevealed(w, v, end(at, rest), rv)
			r.Revealed = rv
		case 2:
			r.Error, ok = status(v)
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
	return true
}

// decodeRevealed decodes b, which ends at offset at of w.
func decodeRevealed(w *wire, b []byte, at int, r *pb.Revealed) bool {
	var seen uint64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || !fresh(&seen, num) {
			return false
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return false
			}
			b = b[m:]
			r.Value = w.byteField(v, end(at, b))
		case num == 2 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			// An enum is an int32: a larger varint is truncated by
			// protobuf-go; it decides that case.
			if m < 0 || int64(v) != int64(int32(v)) {
				return false
			}
			r.Level, b = pb.RevealLevel(int32(v)), b[m:]
		default:
			return false
		}
	}
	return true
}
