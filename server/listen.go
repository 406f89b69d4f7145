package server

import (
	"errors"
	"net"
	"os"
	"path/filepath"
)

// listenUnix listens on a Unix socket at path that has mode from the first
// moment anyone can reach it: the socket is bound in a fresh directory
// only the sidecar may enter, given its mode there and then renamed into
// place (a chmod after listening on path would leave a window with the
// umask's mode; changing the umask would affect the whole process). A
// stale socket file at path is replaced.
func listenUnix(path string, mode os.FileMode) (net.Listener, error) {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".privacyvault-listen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "socket")
	lis, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, err
	}
	lis.SetUnlinkOnClose(false) // it is unlinked at path, by Close
	if err := os.Chmod(tmp, mode); err != nil {
		lis.Close()
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		lis.Close()
		return nil, err
	}
	return &unixListener{UnixListener: lis, addr: &net.UnixAddr{Name: path, Net: "unix"}}, nil
}

// unixListener is a socket renamed to addr after binding: it reports addr
// and removes it on Close.
type unixListener struct {
	*net.UnixListener
	addr *net.UnixAddr
}

func (l *unixListener) Addr() net.Addr { return l.addr }

func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	if rerr := os.Remove(l.addr.Name); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}
