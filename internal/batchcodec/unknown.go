package batchcodec

import (
	"reflect"
	"unsafe"

	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// unknowns says where a generated message type keeps its unknown fields:
// the size functions ask every message of a batch whether it has any
// (only protobuf-go keeps them), and asking through ProtoReflect cost
// more than encoding the item, because the first ProtoReflect of a new
// message stores its type information in the message atomically.
// protoc-gen-go puts them in a []byte member named unknownFields; should a
// later version not, plain asks ProtoReflect as before.
type unknowns[T any] struct {
	off uintptr
	ok  bool
}

func unknownsOf[T any]() unknowns[T] {
	f, ok := reflect.TypeFor[T]().FieldByName("unknownFields")
	return unknowns[T]{off: f.Offset, ok: ok && f.Type == reflect.TypeFor[[]byte]()}
}

// plain reports whether m carries no unknown fields.
func (u unknowns[T]) plain(m *T) bool {
	if m == nil || !u.ok {
		return len(any(m).(protoreflect.ProtoMessage).ProtoReflect().GetUnknown()) == 0
	}
	return len(*(*[]byte)(unsafe.Add(unsafe.Pointer(m), u.off))) == 0
}

var (
	tokenizeRequestUnknowns    = unknownsOf[pb.TokenizeRequest]()
	tokenizeItemUnknowns       = unknownsOf[pb.TokenizeItem]()
	tokenizeResponseUnknowns   = unknownsOf[pb.TokenizeResponse]()
	tokenizeResultUnknowns     = unknownsOf[pb.TokenizeResult]()
	detokenizeRequestUnknowns  = unknownsOf[pb.DetokenizeRequest]()
	detokenizeItemUnknowns     = unknownsOf[pb.DetokenizeItem]()
	detokenizeResponseUnknowns = unknownsOf[pb.DetokenizeResponse]()
	detokenizeResultUnknowns   = unknownsOf[pb.DetokenizeResult]()
	revealedUnknowns           = unknownsOf[pb.Revealed]()
)
