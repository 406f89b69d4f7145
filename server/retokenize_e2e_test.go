package server_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// TestFPERetokenize changes an fpe class's key the documented way: rotate,
// stream the stored tokens through RetokenizeFPE, switch key_version.
func TestFPERetokenize(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	app, admin := h.Client(checkout), h.Client(ops)
	cards := []string{"4111111111111111", "5500005555555559", "6011000990139424"}
	var old []client.DetokenizeItem
	for _, c := range cards {
		old = append(old, client.DetokenizeItem{Class: "card_fpe", Token: tokenize(t, app, "card_fpe", c)})
	}
	st, err := admin.RotateKey(context.Background(), "card_fpe")
	if err != nil || st.GetCurrentVersion() != 2 || st.GetFpeKeyVersion() != 1 {
		t.Fatalf("RotateKey(card_fpe) = %v, %v; want current 2, fpe key version still 1", st, err)
	}
	detokenizeAll(t, app, "card_fpe", tokensOf(old), cards) // rotation alone changes nothing

	var fresh []string
	err = admin.RetokenizeFPE(context.Background(), "card_fpe", 1, 2, old, 2, func(o, n string, err error) error {
		if err != nil {
			t.Errorf("RetokenizeFPE(%d) item error = %v", len(fresh), err)
		}
		if o != old[len(fresh)].Token {
			t.Errorf("RetokenizeFPE pair %d old = %q, want %q (order kept)", len(fresh), o, old[len(fresh)].Token)
		}
		fresh = append(fresh, n)
		return nil
	})
	if err != nil || len(fresh) != len(cards) {
		t.Fatalf("RetokenizeFPE() = %d pairs, %v; want %d", len(fresh), err, len(cards))
	}
	for i, n := range fresh {
		if n == old[i].Token || len(n) != 16 || !luhnValid(n) || n[:6] != cards[i][:6] || n[12:] != cards[i][12:] {
			t.Errorf("RetokenizeFPE(%q) = %q, want a different Luhn-valid token keeping BIN and last-4", old[i].Token, n)
		}
	}

	h.Stop()
	cfg := strings.Replace(string(examples.Config), "  - name: card_fpe\n    mode: fpe\n", "  - name: card_fpe\n    mode: fpe\n    key_version: 2\n", 1)
	h = servertest.Start(t, servertest.Options{Config: []byte(cfg), DataDir: dir})
	app = h.Client(checkout)
	detokenizeAll(t, app, "card_fpe", fresh, cards)
	for i, c := range cards {
		if got := tokenize(t, app, "card_fpe", c); got != fresh[i] {
			t.Errorf("after key_version 2 Tokenize(card %d) = %q, want the re-tokenized %q", i, got, fresh[i])
		}
	}
	got, err := app.Detokenize(context.Background(), "payment", "card_fpe", old[0].Token)
	if err == nil && string(got.Value) == cards[0] {
		t.Errorf("after key_version 2 the old token still detokenizes to the card; want the key changed")
	}
}

func tokensOf(items []client.DetokenizeItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Token
	}
	return out
}

func TestFPERetokenizeErrors(t *testing.T) {
	h := start(t)
	items := []client.DetokenizeItem{{Class: "card_fpe", Token: "4111111111111111"}}
	noop := func(string, string, error) error { return nil }
	tests := []struct {
		name     string
		token    string
		class    string
		from, to uint32
		want     codes.Code
	}{
		{"same version", ops, "card_fpe", 1, 1, codes.InvalidArgument},
		{"unknown version", ops, "card_fpe", 1, 9, codes.InvalidArgument},
		{"vaulted class", ops, "email", 1, 2, codes.InvalidArgument},
		{"not an admin", checkout, "card_fpe", 1, 2, codes.PermissionDenied},
	}
	for _, tt := range tests {
		err := h.Client(tt.token).RetokenizeFPE(context.Background(), tt.class, tt.from, tt.to, items, 10, noop)
		if status.Code(err) != tt.want {
			t.Errorf("RetokenizeFPE(%s) = %v, want %v", tt.name, err, tt.want)
		}
	}
}
