package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// TestCompactLayoutThroughTheServer: a batch tokenized through the real
// API is audited with one version 2 token fingerprint per token (18
// base64url digits), the new store records that its tables are not
// compressed, and the tokens still resolve after a restart.
func TestCompactLayoutThroughTheServer(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	items := make([]client.TokenizeItem, 50)
	for i := range items {
		items[i] = client.TokenizeItem{Class: "email", Value: []byte{'a' + byte(i%26), byte('0' + i/26), '@', 'x', '.', 'o', 'r', 'g'}}
	}
	res, err := h.Client(checkout).TokenizeBatch(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	h.Stop()

	f, err := os.Open(filepath.Join(dir, "audit", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v2 := regexp.MustCompile(`^[A-Za-z0-9_-]{17}[AQgw]$`)
	found := false
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Op     string   `json:"op"`
			Count  int      `json:"count"`
			Tokens []string `json:"token_fps"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Op != "tokenize" || ev.Count != len(items) {
			continue
		}
		found = true
		if len(ev.Tokens) != len(items) {
			t.Errorf("tokenize event has %d token fingerprints, want %d", len(ev.Tokens), len(items))
		}
		for _, fp := range ev.Tokens {
			if !v2.MatchString(fp) {
				t.Errorf("token fingerprint %q, want 18 base64url digits (version 2)", fp)
			}
		}
	}
	if !found {
		t.Fatalf("audit log has no tokenize event for the batch of %d", len(items))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "store", "PRIVACYVAULT-COMPRESSION")); err != nil || !bytes.Equal(b, []byte("none\n")) {
		t.Errorf("store compression file = %q, %v; want \"none\\n\"", b, err)
	}

	h2 := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	c := h2.Client(checkout)
	for i, r := range res {
		got, err := c.Detokenize(context.Background(), "payment", "email", r.Token)
		if err != nil || !bytes.Equal(got.Value, items[i].Value) {
			t.Errorf("after restart Detokenize(item %d) = %q, %v; want %q", i, got.Value, err, items[i].Value)
		}
	}
}
