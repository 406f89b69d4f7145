package pgtest

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// Proxy forwards loopback TCP connections to the database of a DSN, so a
// test can take the database away from a sidecar (Down) and give it back
// (Up) without touching the server other tests use.
type Proxy struct {
	t      testing.TB
	target string // "unix" path or host:port
	net    string
	addr   string
	user   string
	dbname string
	mu     sync.Mutex
	lis    net.Listener
	conns  map[net.Conn]bool
}

// NewProxy starts a proxy to dsn's database, stopped when t ends.
func NewProxy(t testing.TB, dsn string) *Proxy {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("pgtest: proxy: parse DSN: %v", err)
	}
	p := &Proxy{t: t, user: cfg.User, dbname: cfg.Database, conns: map[net.Conn]bool{}}
	if strings.HasPrefix(cfg.Host, "/") {
		p.net, p.target = "unix", filepath.Join(cfg.Host, fmt.Sprintf(".s.PGSQL.%d", cfg.Port))
	} else {
		p.net, p.target = "tcp", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = lis.Addr().String()
	p.serve(lis)
	t.Cleanup(p.Down)
	return p
}

// DSN returns a connection string through the proxy, with password (which
// a trust-authenticated test server ignores) in it.
func (p *Proxy) DSN(password string) string {
	host, port, _ := net.SplitHostPort(p.addr)
	return fmt.Sprintf("postgres://%s:%s@%s:%s/%s?sslmode=disable", p.user, password, host, port, p.dbname)
}

// Down closes the listener and every forwarded connection.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lis != nil {
		p.lis.Close()
		p.lis = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Up listens again on the same address.
func (p *Proxy) Up() {
	p.t.Helper()
	lis, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("pgtest: proxy up: %v", err)
	}
	p.serve(lis)
}

func (p *Proxy) serve(lis net.Listener) {
	p.mu.Lock()
	p.lis = lis
	p.mu.Unlock()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *Proxy) forward(c net.Conn) {
	up, err := net.Dial(p.net, p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.lis == nil {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close(); c.Close() }()
	io.Copy(c, up)
	c.Close()
	up.Close()
}
