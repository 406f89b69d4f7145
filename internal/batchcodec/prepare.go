package batchcodec

import (
	"runtime"
	"sync"
	"weak"

	"google.golang.org/grpc/mem"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// prepared holds the encodings Prepare made, until Marshal sends them or
// their message is collected: weak.Pointer[pb.TokenizeResponse] →
// *[]byte from the default buffer pool.
var prepared sync.Map

// Prepare encodes m now, so that the codec's Marshal of m sends these
// bytes instead of encoding it again: the tokenize handler encodes a
// batch's response while the call's audit event syncs rather than after.
// m must not change afterwards. A message the hand path cannot encode is
// left to Marshal; an encoding never sent (the call failed) is dropped
// with its message.
func Prepare(m *pb.TokenizeResponse) {
	if m == nil {
		return
	}
	size, ok := sizeTokenizeResponse(m)
	if !ok {
		return
	}
	pool := mem.DefaultBufferPool()
	buf := pool.Get(size)
	b, err := appendTokenizeResponse((*buf)[:0], m)
	if err != nil {
		pool.Put(buf)
		return
	}
	*buf = b
	key := weak.Make(m)
	if old, loaded := prepared.Swap(key, buf); loaded {
		pool.Put(old.(*[]byte)) // prepared twice: the later encoding wins
		return                  // and the cleanup is registered already
	}
	runtime.AddCleanup(m, func(key weak.Pointer[pb.TokenizeResponse]) {
		if buf, ok := prepared.LoadAndDelete(key); ok {
			pool.Put(buf.(*[]byte))
		}
	}, key)
}

// takePrepared returns the encoding Prepare made of m, once.
func takePrepared(m *pb.TokenizeResponse) (mem.BufferSlice, bool) {
	buf, ok := prepared.LoadAndDelete(weak.Make(m))
	if !ok {
		return nil, false
	}
	return mem.BufferSlice{mem.NewBuffer(buf.(*[]byte), mem.DefaultBufferPool())}, true
}
