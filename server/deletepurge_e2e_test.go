package server_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
	"github.com/privacyvault/privacyvault/store/badger"
)

// TestDeleteTokenLeavesNoCopyOnDisk: after DeleteToken the data
// directory holds no copy of the token's sealed value nor of its index —
// of a deterministic token (its record indexed by its ID), of one
// rectified before (whose first value's version and index entry the
// store also held), and of a random token — as the signed deletion
// receipt states.
func TestDeleteTokenLeavesNoCopyOnDisk(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	toks := tokenizeFor(t, h.Client(checkout), "",
		subjectData{class: "email", value: "delete.me.marker@example.com"},
		subjectData{class: "email", value: "rectify.me.marker@example.com"},
		subjectData{class: "ssn", value: "123-45-6789"})
	h.Stop()

	storeDir := filepath.Join(dir, "store")
	st, err := badger.Open(badger.Options{Dir: storeDir})
	if err != nil {
		t.Fatal(err)
	}
	var secrets [][]byte // sealed values and indexes
	for _, class := range []string{"email", "ssn"} {
		page, err := st.Scan(context.Background(), class, nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			secrets = append(secrets, r.Ciphertext)
			if r.Index != nil {
				secrets = append(secrets, r.Index)
			}
		}
	}
	st.Close()
	if len(secrets) != 5 {
		t.Fatalf("stored secrets = %d, want 5 (three sealed values, two indexes)", len(secrets))
	}
	for i, s := range secrets {
		if hits := filesContaining(t, storeDir, s); len(hits) == 0 {
			t.Fatalf("secret %d not on disk before the deletion; the scan would prove nothing", i)
		}
	}

	h = servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	dpoC := h.Client(dpo)
	ctx := context.Background()
	if err := dpoC.RectifyToken(ctx, "email", toks[1].token, []byte("rectified.marker@example.com")); err != nil {
		t.Fatalf("RectifyToken() = %v", err)
	}
	for _, d := range toks {
		if _, err := dpoC.DeleteToken(ctx, d.class, d.token); err != nil {
			t.Fatalf("DeleteToken(%s) = %v", d.class, err)
		}
	}
	h.Stop()
	for i, s := range secrets {
		if hits := filesContaining(t, storeDir, s); len(hits) > 0 {
			t.Errorf("after DeleteToken, secret %d (a sealed value or an index) still on disk in %v", i, hits)
		}
	}
}
