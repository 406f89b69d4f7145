package identity

import "maps"

// UIDMap maps the uids of local peers (see PeerUID) to identities, for a
// sidecar reached over a Unix socket.
type UIDMap struct {
	m map[uint32]Identity
}

// NewUIDMap returns a map of uid → identity. It keeps a copy of m, so later
// changes to m have no effect. Entries with an empty identity are ignored.
func NewUIDMap(m map[uint32]Identity) *UIDMap {
	c := maps.Clone(m)
	maps.DeleteFunc(c, func(_ uint32, id Identity) bool { return id == "" })
	return &UIDMap{m: c}
}

// Lookup returns the identity of uid, or an error wrapping
// ErrUnauthenticated if uid is not in the map.
func (u *UIDMap) Lookup(uid uint32) (Identity, error) {
	id, ok := u.m[uid]
	if !ok {
		// The uid is not named: no failure quotes the credential.
		return "", unauthenticated("the peer's uid is not mapped")
	}
	return id, nil
}
