package server_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
)

// The unary benchmarks run eight callers (RunParallel) against a real
// in-process server, as make bench's 8-client unary points do against
// the binary: what one call costs end to end, and how many allocations.
func BenchmarkUnaryTokenizeRandom(b *testing.B)   { benchUnaryTokenize(b, "rnd") }
func BenchmarkUnaryTokenizeFPE(b *testing.B)      { benchUnaryTokenize(b, "fpe") }
func BenchmarkUnaryDetokenizeRandom(b *testing.B) { benchUnaryDetokenize(b, "rnd") }

const unaryCallers = 8

func benchUnaryTokenize(b *testing.B, class string) {
	c := benchClient(b)
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(max(1, unaryCallers/maxProcs()))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			v := fmt.Sprintf("unary-%d", n)
			if class == "fpe" {
				v = fmt.Sprintf("%016d", n*7919%10_000_000_000_000_000)
			}
			if _, err := c.Tokenize(context.Background(), class, []byte(v)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchUnaryDetokenize(b *testing.B, class string) {
	c := benchClient(b)
	toks := tokenizeAll(b, c, batchItems(class))
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(max(1, unaryCallers/maxProcs()))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tok := toks[int(seq.Add(1))%len(toks)]
			if _, err := c.Detokenize(context.Background(), "bench", class, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func maxProcs() int { return runtime.GOMAXPROCS(0) }
