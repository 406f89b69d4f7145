//go:build linux

package identity

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// PeerUID returns the uid of the process at the other end of conn, as the
// kernel recorded it when the connection was made (SO_PEERCRED). The
// peer cannot forge it. Errors (nil, closed or unconnected socket) are
// system errors, not ErrUnauthenticated: a connected Unix stream socket
// always has a peer uid.
func PeerUID(conn *net.UnixConn) (uint32, error) {
	if conn == nil {
		return 0, errors.New("identity: peer uid: nil connection")
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("identity: peer uid: %w", err)
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return 0, fmt.Errorf("identity: peer uid: %w", err)
	}
	if credErr != nil {
		return 0, fmt.Errorf("identity: peer uid: SO_PEERCRED: %w", credErr)
	}
	if cred.Uid == noUID {
		return 0, errors.New("identity: peer uid: socket has no peer credentials (not connected?)")
	}
	return cred.Uid, nil
}

// noUID is the uid SO_PEERCRED reports for a socket without a peer.
const noUID = ^uint32(0)
