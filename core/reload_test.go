package core_test

import (
	"context"
	"testing"

	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/internal/devvaulttest"
	"github.com/privacyvault/privacyvault/kms/vault"
	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// TestReloadOnUnknownVersion: two data planes share one store (as sidecars
// on a shared database would) and one Vault. After A rotates and writes, B
// — which never refreshes on its own here — meets a record sealed under a
// version it has not cached and fetches the keyring at once.
func TestReloadOnUnknownVersion(t *testing.T) {
	dv := devvaulttest.Start(t)
	st := tempStore(t)
	open := func() *core.Service {
		p, err := vault.Open(context.Background(), vault.Config{
			Address:   dv.Addr,
			Auth:      vault.AuthConfig{Token: dv.Token},
			CreateKEK: true,
			KVPrefix:  "reload",
		}, nil)
		if err != nil {
			t.Fatalf("vault.Open() error = %v", err)
		}
		t.Cleanup(func() { p.Close() })
		svc, err := core.New(context.Background(), core.Config{
			Classes:       []core.ClassSpec{{Name: "email", Mode: tokenizer.Random}},
			Store:         st,
			Keys:          p,
			Policy:        mustPolicy(t, policy.Spec{Grants: []policy.Grant{{Identity: "app", Purpose: "p", Class: "email", Reveal: policy.Plain}}}),
			Auditor:       &memAuditor{},
			Fingerprints:  testFingerprints{},
			MaxValueBytes: 1024,
		})
		if err != nil {
			t.Fatalf("core.New() error = %v", err)
		}
		t.Cleanup(svc.Close)
		return svc
	}
	a, b := open(), open()
	if _, err := a.Rotate(context.Background(), "email"); err != nil {
		t.Fatalf("A.Rotate() error = %v", err)
	}
	res, err := a.Tokenize(context.Background(), "app", []core.TokenizeItem{{Class: "email", Value: []byte("v2@example.com")}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("A.Tokenize() = %v, %v", res, err)
	}
	got, err := b.Detokenize(context.Background(), "app", "p", []core.DetokenizeItem{{Class: "email", Token: res[0].Token}})
	if err != nil || got[0].Err != nil || string(got[0].Value) != "v2@example.com" {
		t.Fatalf("B.Detokenize(token sealed under A's new version) = %v, %v; want the value", got, err)
	}
	status, err := b.KeyStatus(context.Background())
	if err != nil || status[0].Current != 2 {
		t.Errorf("B.KeyStatus() after meeting v2 = %+v, %v; want current 2", status, err)
	}
}
