package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	"github.com/privacyvault/privacyvault/server/servertest"
)

const ops = "dev-ops-token-00000004"

func versionRecords(st *pb.ClassKeyStatus) map[uint32]uint64 {
	m := map[uint32]uint64{}
	for _, v := range st.GetVersions() {
		m[v.GetVersion()] = v.GetRecords()
	}
	return m
}

func classStatus(t *testing.T, c *client.Client, class string) *pb.ClassKeyStatus {
	t.Helper()
	all, err := c.KeyStatus(context.Background())
	if err != nil {
		t.Fatalf("KeyStatus() error = %v", err)
	}
	for _, st := range all {
		if st.GetClass() == class {
			return st
		}
	}
	t.Fatalf("KeyStatus() has no class %s", class)
	return nil
}

func waitJob(t *testing.T, c *client.Client, class string) *pb.ReencryptJob {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := c.Reencrypt(context.Background(), class)
		if err != nil {
			t.Fatalf("Reencrypt(%s) error = %v", class, err)
		}
		if j.GetState() != pb.ReencryptJob_STATE_RUNNING {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("re-encryption of %s still running: %v", class, j)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func detokenizeAll(t *testing.T, c *client.Client, class string, toks, want []string) {
	t.Helper()
	items := make([]client.DetokenizeItem, len(toks))
	for i, tok := range toks {
		items[i] = client.DetokenizeItem{Class: class, Token: tok}
	}
	res, err := c.DetokenizeBatch(context.Background(), "payment", items)
	if err != nil {
		t.Fatalf("DetokenizeBatch() error = %v", err)
	}
	for i, r := range res {
		if r.Err != nil || string(r.Value) != want[i] {
			t.Fatalf("Detokenize(token %d) = %q, %v; want %q", i, r.Value, r.Err, want[i])
		}
	}
}

// TestRotateReencryptRetire walks the rotation runbook with the
// development provider: tokens issued before rotate, rewrap and reencrypt
// still resolve; retire is refused while records need the old version.
func TestRotateReencryptRetire(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	app, admin := h.Client(checkout), h.Client(ops)
	var values, toks []string
	for i := range 20 {
		v := fmt.Sprintf("user%02d@example.com", i)
		values = append(values, v)
		toks = append(toks, tokenize(t, app, "email", v))
	}
	if got := versionRecords(classStatus(t, admin, "email")); got[1] != 20 {
		t.Fatalf("before rotate records per version = %v, want 20 at v1", got)
	}

	st, err := admin.RotateKey(context.Background(), "email")
	if err != nil || st.GetCurrentVersion() != 2 {
		t.Fatalf("RotateKey(email) = %v, %v; want current 2", st, err)
	}
	values = append(values, "after-rotate@example.com")
	toks = append(toks, tokenize(t, app, "email", "after-rotate@example.com"))
	if got := versionRecords(classStatus(t, admin, "email")); got[1] != 20 || got[2] != 1 {
		t.Errorf("after rotate records per version = %v, want 20 at v1, 1 at v2", got)
	}
	detokenizeAll(t, app, "email", toks, values)

	if n, err := admin.RewrapKeys(context.Background()); err != nil || n == 0 {
		t.Errorf("RewrapKeys() = %d, %v; want some keys re-wrapped", n, err)
	}
	detokenizeAll(t, app, "email", toks, values)

	_, err = admin.RetireKeyVersions(context.Background(), "email", 2)
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("RetireKeyVersions(email, 2) before reencrypt = %v, want FailedPrecondition", err)
	}

	// Keep a copy of the store as a backup taken before re-encryption.
	h.Stop()
	backup := filepath.Join(t.TempDir(), "store")
	if err := os.CopyFS(backup, os.DirFS(filepath.Join(dir, "store"))); err != nil {
		t.Fatal(err)
	}
	h = servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	app, admin = h.Client(checkout), h.Client(ops)

	if _, err := admin.StartReencrypt(context.Background(), "email"); err != nil {
		t.Fatalf("StartReencrypt(email) error = %v", err)
	}
	j := waitJob(t, admin, "email")
	if j.GetState() != pb.ReencryptJob_STATE_DONE || j.GetMoved() != 20 || j.GetTotal() != 20 {
		t.Errorf("re-encryption job = %v, want done with 20 of 20 moved", j)
	}
	if got := versionRecords(classStatus(t, admin, "email")); got[1] != 0 || got[2] != 21 {
		t.Errorf("after reencrypt records per version = %v, want all 21 at v2", got)
	}
	detokenizeAll(t, app, "email", toks, values)
	if again := tokenize(t, app, "email", values[0]); again != toks[0] {
		t.Errorf("after reencrypt Tokenize(same value) = %q, want the old token %q", again, toks[0])
	}

	st, err = admin.RetireKeyVersions(context.Background(), "email", 2)
	if err != nil || st.GetMinDecryptionVersion() != 2 {
		t.Fatalf("RetireKeyVersions(email, 2) after reencrypt = %v, %v", st, err)
	}
	detokenizeAll(t, app, "email", toks, values)

	// Restoring the old backup brings back records sealed under the
	// retired version: they are refused, not decrypted.
	h.Stop()
	if err := os.RemoveAll(filepath.Join(dir, "store")); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "store"), os.DirFS(backup)); err != nil {
		t.Fatal(err)
	}
	h = servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	_, err = h.Client(checkout).Detokenize(context.Background(), "payment", "email", toks[0])
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("Detokenize(record below the floor) = %v, want FailedPrecondition", err)
	}
}

func TestAdminAuthorization(t *testing.T) {
	h := start(t)
	tests := []struct {
		name  string
		token string
		want  codes.Code
	}{
		{"admin", ops, codes.OK},
		{"non-admin", checkout, codes.PermissionDenied},
		{"no credentials", "", codes.Unauthenticated},
	}
	for _, tt := range tests {
		_, err := h.Client(tt.token).KeyStatus(context.Background())
		if status.Code(err) != tt.want {
			t.Errorf("KeyStatus(%s) = %v, want %v", tt.name, status.Code(err), tt.want)
		}
	}
	admin := h.Client(ops)
	if _, err := admin.RotateKey(context.Background(), "card_last4"); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("RotateKey(mask class) = %v, want FailedPrecondition", err)
	}
	if _, err := admin.RotateKey(context.Background(), "nope"); status.Code(err) != codes.InvalidArgument {
		t.Errorf("RotateKey(unknown class) = %v, want InvalidArgument", err)
	}
	if _, err := admin.Reencrypt(context.Background(), "email"); status.Code(err) != codes.NotFound {
		t.Errorf("Reencrypt(no job) = %v, want NotFound", err)
	}
	if _, err := admin.RetireKeyVersions(context.Background(), "email", 5); status.Code(err) != codes.InvalidArgument {
		t.Errorf("RetireKeyVersions(above current) = %v, want InvalidArgument", err)
	}
}

// TestLoadDuringRotation runs tokenize/detokenize from several goroutines
// while rotate, rewrap and reencrypt happen: no call may fail.
func TestLoadDuringRotation(t *testing.T) {
	h := start(t)
	app, admin := h.Client(checkout), h.Client(ops)
	ctx, cancel := context.WithCancel(context.Background())
	var calls, failures atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil && i < 5000; i++ {
				v := fmt.Sprintf("w%d-%d@example.com", w, i)
				tok, err := app.Tokenize(context.Background(), "email", []byte(v))
				calls.Add(1)
				if err != nil {
					failures.Add(1)
					t.Errorf("Tokenize during rotation: %v", err)
					continue
				}
				got, err := app.Detokenize(context.Background(), "payment", "email", tok)
				calls.Add(1)
				if err != nil || string(got.Value) != v {
					failures.Add(1)
					t.Errorf("Detokenize during rotation = %q, %v; want %q", got.Value, err, v)
				}
			}
		}()
	}
	for range 3 {
		time.Sleep(50 * time.Millisecond)
		if _, err := admin.RotateKey(context.Background(), "email"); err != nil {
			t.Errorf("RotateKey() error = %v", err)
		}
		if _, err := admin.RewrapKeys(context.Background()); err != nil {
			t.Errorf("RewrapKeys() error = %v", err)
		}
		if _, err := admin.StartReencrypt(context.Background(), "email"); err != nil {
			t.Errorf("StartReencrypt() error = %v", err)
		}
		waitJob(t, admin, "email")
	}
	cancel()
	wg.Wait()
	if calls.Load() == 0 || failures.Load() != 0 {
		t.Errorf("load during rotation: %d calls, %d failures; want calls and no failures", calls.Load(), failures.Load())
	}
	t.Logf("load during rotation: %d calls, 0 failures", calls.Load())
}
