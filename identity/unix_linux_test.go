//go:build linux

package identity_test

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/privacyvault/privacyvault/identity"
)

// socketpair returns both ends of a connected AF_UNIX stream socketpair.
func socketpair(t *testing.T) (a, b *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close() // net.FileConn dups the descriptor
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}

// listenDial returns the accepted and the dialled end of a connection over
// a Unix socket file, the way the sidecar is reached.
func listenDial(t *testing.T) (server, client *net.UnixConn) {
	t.Helper()
	addr := &net.UnixAddr{Name: filepath.Join(t.TempDir(), "pv.sock"), Net: "unix"}
	ln, err := net.ListenUnix("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.DialUnix("unix", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return server, client
}

func TestPeerUID(t *testing.T) {
	pa, pb := socketpair(t)
	server, client := listenDial(t)
	want := uint32(os.Getuid())
	tests := []struct {
		name string
		conn *net.UnixConn
	}{
		{"socketpair end a", pa},
		{"socketpair end b", pb},
		{"accepted connection", server},
		{"dialled connection", client},
	}
	for _, tt := range tests {
		got, err := identity.PeerUID(tt.conn)
		if got != want || err != nil {
			t.Errorf("PeerUID(%s) = %d, %v, want %d, nil", tt.name, got, err, want)
		}
	}
}

func TestPeerUIDErrors(t *testing.T) {
	closedA, _ := socketpair(t)
	closedA.Close()
	dgram, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(t.TempDir(), "d.sock"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer dgram.Close()
	tests := []struct {
		name string
		conn *net.UnixConn
	}{
		{"nil", nil},
		{"closed", closedA},
		{"unconnected datagram socket", dgram},
	}
	for _, tt := range tests {
		got, err := identity.PeerUID(tt.conn)
		if got != 0 || err == nil {
			t.Errorf("PeerUID(%s) = %d, %v, want 0, an error", tt.name, got, err)
		}
	}
}
