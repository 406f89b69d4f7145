// Command measure compares unary tokenize throughput of two sidecars on
// the PostgreSQL store, audit.sink file vs postgres, in alternating rounds.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/privacyvault/privacyvault/client"
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func start(bin, dir, dsn, sink string) (string, *exec.Cmd) {
	cfg, err := os.ReadFile("examples/config.yaml")
	must(err)
	s := strings.Replace(string(cfg), "store:\n  backend: badger\n", fmt.Sprintf("store:\n  backend: postgres\n  postgres:\n    dsn_file: %s/dsn\n    max_conns: 16\n", dir), 1)
	s = strings.Replace(s, "audit:\n  checkpoint_every: 1000\n", "audit:\n  checkpoint_every: 1000\n  sink: "+sink+"\n", 1)
	must(os.WriteFile(dir+"/dsn", []byte(dsn), 0o600))
	must(os.WriteFile(dir+"/c.yaml", []byte(s), 0o600))
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve", "--dev", "--config", dir+"/c.yaml", "--data-dir", dir+"/data", "--listen", addr)
	logf, _ := os.Create(dir + "/log")
	cmd.Stderr = logf
	must(cmd.Start())
	time.Sleep(3 * time.Second)
	return addr, cmd
}

func round(addr string, clients int, d time.Duration) float64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range clients {
		c, err := client.Dial(addr, client.WithInsecure(), client.WithBearerToken("dev-checkout-token-0001"))
		must(err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			for time.Now().Before(end) {
				if _, err := c.Tokenize(context.Background(), "card_number", []byte("4111 1111 1111 1111")); err != nil {
					panic(err)
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

func main() {
	admin := os.Getenv("PRIVACYVAULT_TEST_POSTGRES_DSN")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	must(err)
	tmp, _ := os.MkdirTemp("", "pvmeasure")
	var addrs []string
	for _, sink := range []string{"file", "postgres"} {
		name := fmt.Sprintf("pvm_%s_%d", sink, time.Now().UnixNano())
		_, err := conn.Exec(ctx, "CREATE DATABASE "+name)
		must(err)
		dir := filepath.Join(tmp, sink)
		must(os.MkdirAll(dir, 0o700))
		addr, cmd := start(os.Args[1], dir, admin+" dbname="+name, sink)
		defer cmd.Process.Kill()
		addrs = append(addrs, addr)
	}
	for _, clients := range []int{1, 8} {
		var sum [2]float64
		for r := 0; r < 3; r++ {
			for i, a := range addrs {
				sum[i] += round(a, clients, 2*time.Second)
			}
		}
		fmt.Printf("unary tokenize card_number, %d clients, 3 x 2 s alternating: sink file %.0f/s, sink postgres %.0f/s, ratio %.2f\n",
			clients, sum[0]/3, sum[1]/3, sum[1]/sum[0])
	}
}
