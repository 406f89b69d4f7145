package identity_test

import (
	"errors"
	"testing"

	"github.com/privacyvault/privacyvault/identity"
)

func TestUIDMapLookup(t *testing.T) {
	src := map[uint32]identity.Identity{0: "root-tool", 1000: "checkout", 1001: "support", 1002: ""}
	m := identity.NewUIDMap(src)
	src[1003] = "added-later"
	src[1000] = "changed-later"
	tests := []struct {
		uid     uint32
		want    identity.Identity
		wantErr error
	}{
		{0, "root-tool", nil},
		{1000, "checkout", nil},
		{1001, "support", nil},
		{1002, "", identity.ErrUnauthenticated}, // empty identity is not a mapping
		{1003, "", identity.ErrUnauthenticated}, // the map was copied
		{65534, "", identity.ErrUnauthenticated},
	}
	for _, tt := range tests {
		got, err := m.Lookup(tt.uid)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("Lookup(%d) = %q, %v, want %q, %v", tt.uid, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestUIDMapNil(t *testing.T) {
	m := identity.NewUIDMap(nil)
	if got, err := m.Lookup(0); got != "" || !errors.Is(err, identity.ErrUnauthenticated) {
		t.Errorf("NewUIDMap(nil).Lookup(0) = %q, %v, want \"\", ErrUnauthenticated", got, err)
	}
}
