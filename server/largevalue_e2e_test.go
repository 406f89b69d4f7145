package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
	"github.com/privacyvault/privacyvault/store/badger"
)

// windows returns a few 256-byte slices of b: enough to recognise it on
// disk, wherever and however split it was stored.
func windows(b []byte) [][]byte {
	n := len(b)
	return [][]byte{b[40:296], b[n/2 : n/2+256], b[n-300 : n-44]}
}

func tokenizeBig(t *testing.T, c *client.Client, subject string) ([]byte, string) {
	t.Helper()
	v := make([]byte, 2<<20)
	rand.Read(v)
	res, err := c.TokenizeBatch(context.Background(), []client.TokenizeItem{{Class: "document", Value: v, SubjectID: subject}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Tokenize(2 MiB for %s) = %v, %v", subject, err, res)
	}
	return v, res[0].Token
}

// TestEraseLargeValues: a subject's 2 MiB value (over Badger's 1 MiB
// value-log threshold, so in the active value log) is gone from the data
// directory when EraseSubject returns, and stays gone after a restart;
// another subject's large value still resolves.
func TestEraseLargeValues(t *testing.T) {
	dir := t.TempDir()
	cfg := bytes.Replace(examples.Config, []byte("max_value_bytes: 65536"), []byte("max_value_bytes: 3145728"), 1)
	cfg = bytes.Replace(cfg, []byte("  grants:\n"), []byte("  grants:\n    - {identity: checkout, purpose: payment, class: document, reveal: plain}\n"), 1)
	ctx := context.Background()
	h := servertest.Start(t, servertest.Options{Config: cfg, DataDir: dir})
	app := h.Client(checkout)
	hers, _ := tokenizeBig(t, app, "hanna")

	// Read hanna's ciphertext from a copy of the live store.
	storeDir := filepath.Join(dir, "store")
	snap := filepath.Join(t.TempDir(), "store")
	if err := os.CopyFS(snap, os.DirFS(storeDir)); err != nil {
		t.Fatal(err)
	}
	st, err := badger.Open(badger.Options{Dir: snap})
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.Scan(ctx, "document", nil, 10)
	st.Close()
	if err != nil || len(page) != 1 || len(page[0].Ciphertext) < 2<<20 {
		t.Fatalf("Scan(document) = %d records, %v; want hanna's one of over 2 MiB", len(page), err)
	}
	secrets := windows(page[0].Ciphertext)
	for i, s := range secrets {
		if hits := filesContaining(t, storeDir, s); len(hits) == 0 {
			t.Fatalf("ciphertext window %d not on disk before erasure; the scan would prove nothing", i)
		}
	}
	for i, s := range windows(hers) {
		if hits := filesContaining(t, storeDir, s); len(hits) > 0 {
			t.Errorf("plaintext window %d on disk in %v", i, hits)
		}
	}

	his, histoken := tokenizeBig(t, app, "ivan")
	if _, err := h.Client(dpo).EraseSubject(ctx, "hanna"); err != nil {
		t.Fatalf("EraseSubject(hanna) = %v", err)
	}
	scan := func(stage string) {
		t.Helper()
		for i, s := range secrets {
			if hits := filesContaining(t, storeDir, s); len(hits) > 0 {
				t.Errorf("%s: hanna's ciphertext window %d still on disk in %v", stage, i, hits)
			}
		}
		r, err := h.Client(checkout).Detokenize(ctx, "payment", "document", histoken)
		if err != nil || !bytes.Equal(r.Value, his) {
			t.Errorf("%s: Detokenize(ivan's 2 MiB value) = %d bytes, %v; want it unchanged", stage, len(r.Value), err)
		}
	}
	scan("when EraseSubject returned")
	h.Stop()
	h = servertest.Start(t, servertest.Options{Config: cfg, DataDir: dir})
	scan("after restart")
}
