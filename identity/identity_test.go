package identity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/privacyvault/privacyvault/identity"
)

func TestStaticTokens(t *testing.T) {
	v := identity.NewStaticTokens(map[string]identity.Identity{
		"token-for-checkout-0001": "checkout",
		"token-for-support-00002": "support",
	})
	tests := []struct {
		token   string
		want    identity.Identity
		wantErr error
	}{
		{"token-for-checkout-0001", "checkout", nil},
		{"token-for-support-00002", "support", nil},
		{"token-for-checkout-0002", "", identity.ErrUnauthenticated},
		{"token-for-checkout-000", "", identity.ErrUnauthenticated},
		{"", "", identity.ErrUnauthenticated},
	}
	for _, tt := range tests {
		got, err := v.Verify(tt.token)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("Verify(%q) = %q, %v; want %q, %v", tt.token, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestContext(t *testing.T) {
	ctx := identity.NewContext(context.Background(), "checkout")
	if got, ok := identity.FromContext(ctx); !ok || got != "checkout" {
		t.Errorf("FromContext(with checkout) = %q, %v; want checkout, true", got, ok)
	}
	if got, ok := identity.FromContext(context.Background()); ok {
		t.Errorf("FromContext(empty) = %q, true; want false", got)
	}
}
