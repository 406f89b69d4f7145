package core

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// TestSlotReloadShared: reloads that arrive while one is fetching share
// its fetch and its class; the next reload fetches again.
func TestSlotReloadShared(t *testing.T) {
	k, err := kms.NewKey(1, bytes.Repeat([]byte{1}, kms.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := kms.NewKeyring("email", 1, 1, []*kms.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	sl := &slot{spec: ClassSpec{Name: "email", Mode: tokenizer.Random}}
	var fetches atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	fetch := func(context.Context) (*kms.Keyring, error) {
		if fetches.Add(1) == 1 {
			close(entered)
			<-release
		}
		return ring, nil
	}
	const callers = 8
	got := make([]*class, callers)
	var wg sync.WaitGroup
	wg.Go(func() { got[0], _ = sl.reload(t.Context(), fetch) })
	<-entered
	for i := 1; i < callers; i++ {
		wg.Go(func() { got[i], _ = sl.reload(t.Context(), fetch) })
	}
	// Polling with a generous bound: the others must be waiting on the
	// running fetch before it is released.
	for deadline := time.Now().Add(time.Minute); sl.inflight.waiters.Load() < callers-1; {
		if time.Now().After(deadline) {
			t.Fatalf("reload waiters = %d, want %d", sl.inflight.waiters.Load(), callers-1)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Errorf("keyring fetches for %d concurrent reloads = %d, want 1", callers, n)
	}
	for i, c := range got {
		if c == nil || c != got[0] {
			t.Errorf("reload %d class = %p, want the shared %p", i, c, got[0])
		}
	}
	if _, err := sl.reload(t.Context(), fetch); err != nil || fetches.Load() != 2 {
		t.Errorf("a later reload: err %v, fetches %d, want nil, 2", err, fetches.Load())
	}
}
