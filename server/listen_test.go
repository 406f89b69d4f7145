package server_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/privacyvault/privacyvault/server"
)

// TestListenUnix: the socket has mode 0660 when it appears at its path,
// replaces a stale file, reports its path, accepts connections and is
// removed by Close; nothing is left beside it.
func TestListenUnix(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pv.sock")
	if err := os.WriteFile(path, nil, 0o644); err != nil { // a stale file
		t.Fatal(err)
	}
	lis, err := server.Listen("unix://" + path)
	if err != nil {
		t.Fatalf("Listen = %v", err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode = %v, want a socket with 0660", fi.Mode())
	}
	if got := lis.Addr().String(); got != path {
		t.Errorf("Addr() = %q, want %q", got, path)
	}
	go func() {
		if c, err := lis.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", path, err)
	}
	c.Close()
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only the socket", len(ents))
	}
	if err := lis.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("after Close, Lstat(socket) = %v, want not exist", err)
	}
}
