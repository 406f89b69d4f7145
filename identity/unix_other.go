//go:build !linux

package identity

import (
	"errors"
	"net"
)

// PeerUID returns the uid of the process at the other end of conn. It is
// implemented on Linux only (SO_PEERCRED); elsewhere it always fails.
func PeerUID(conn *net.UnixConn) (uint32, error) {
	return 0, errors.New("identity: peer uid: SO_PEERCRED is only supported on linux")
}
