package tokenizer

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
)

// Pooled states give exactly HMAC-SHA256, call after call and from many
// goroutines at once.
func TestKeyedMACIsHMAC(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	k := newKeyedMAC(key)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				a, b := []byte(fmt.Sprint("class", w)), []byte(fmt.Sprint("id", i))
				m := hmac.New(sha256.New, key)
				m.Write(a)
				m.Write(b)
				if got, want := k.sum(nil, a, b), m.Sum(nil); !bytes.Equal(got, want) {
					t.Errorf("sum(%s, %s) = %x, want %x", a, b, got, want)
				}
			}
		}()
	}
	wg.Wait()
}
