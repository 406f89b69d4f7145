package core

import (
	"errors"
	"fmt"
	"testing"

	"github.com/privacyvault/privacyvault/kms"
)

// TestPublicReason: what callers read of an error names no internal
// address, path or key name.
func TestPublicReason(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"invalid", Invalid("class", "unknown data class (not in the configuration)"), "invalid class: unknown data class (not in the configuration)"},
		{"precondition", &PreconditionError{Reason: "records still need version 1"}, "records still need version 1"},
		{"vault down", fmt.Errorf("core: rotate email: %w", fmt.Errorf("%w: vault: Vault at https://10.0.0.7:8200 cannot be reached", kms.ErrUnavailable)), "key provider unavailable"},
		{"storage", fmt.Errorf("core: reencrypt: open /var/lib/privacyvault/store/000001.vlog: %w", errors.New("no space left on device")), "internal error (details in the sidecar log)"},
		{"domain", fmt.Errorf("core: %w", ErrKeysStale), ErrKeysStale.Error()},
	}
	for _, tt := range tests {
		if got := publicReason(tt.err); got != tt.want {
			t.Errorf("publicReason(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
