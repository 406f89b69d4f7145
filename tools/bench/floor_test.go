package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Every acknowledged record is in every file of the log exactly once,
// whatever groups the concurrent appends fell into.
func TestGroupLogWritesEveryAcknowledgedRecord(t *testing.T) {
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}
	g, err := openGroupLog(paths...)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 40
	var want []string
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		for i := range each {
			want = append(want, fmt.Sprintf("w%02d-%03d", w, i))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- g.Append(fmt.Appendf(nil, "w%02d-%03d\n", w, i))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Append() = %v, want nil", err)
		}
	}
	if err := g.close(); err != nil {
		t.Fatalf("close() = %v, want nil", err)
	}
	if g.records != writers*each || g.groups < 1 || g.groups > g.records {
		t.Errorf("groups, records = %d, %d, want between 1 and %d groups of %d records", g.groups, g.records, writers*each, writers*each)
	}
	slices.Sort(want)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Fields(string(b))
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s holds %d records, want the %d acknowledged ones once each", filepath.Base(p), len(got), len(want))
		}
	}
}

// A write that fails is answered with its error: nothing is acknowledged
// that was not synced.
func TestGroupLogReportsFailedWrite(t *testing.T) {
	g, err := openGroupLog(filepath.Join(t.TempDir(), "a"))
	if err != nil {
		t.Fatal(err)
	}
	g.files[0].Close() // every write and sync now fails
	if err := g.Append([]byte("x\n")); err == nil {
		t.Errorf("Append() on a closed file = nil, want an error")
	}
	g.close()
}

// startFloorServer serves the durable floor on loopback from a grpc-go
// server, as the bare process does, and returns a client connection.
func startFloorServer(t *testing.T, dir string) (*grpc.ClientConn, *groupLog, *groupLog) {
	t.Helper()
	one, two, err := openFloorLogs(dir)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	registerFloor(s, one, two)
	go s.Serve(lis)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		s.Stop()
		one.close()
		two.close()
	})
	return conn, one, two
}

// The bench's floor op, through a real grpc-go server: each call's record
// is in the file (one file) or in both files (Append2) once answered.
func TestFloorServiceAppendsThroughGRPC(t *testing.T) {
	dir := t.TempDir()
	conn, _, _ := startFloorServer(t, dir)
	conns := make([]*grpc.ClientConn, 4)
	for i := range conns {
		conns[i] = conn
	}
	tests := []struct {
		method string
		files  []string
	}{
		{floorOneFile, []string{"one.log"}},
		{floorTwoFiles, []string{"audit.log", "wal.log"}},
	}
	for _, tt := range tests {
		run := floorOps(conns, tt.method)
		const calls = 25
		var wg sync.WaitGroup
		errs := make(chan error, len(conns)*calls)
		for w := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 1))
				for range calls {
					n, err := run(context.Background(), w, rng)
					if n != 1 && err == nil {
						err = fmt.Errorf("op counted %d values, want 1", n)
					}
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("%s: call error = %v, want nil", tt.method, err)
			}
		}
		for _, f := range tt.files {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(b), len(conns)*calls*floorPayload; got != want {
				t.Errorf("%s: %s holds %d bytes, want %d (%d records of %d)", tt.method, f, got, want, len(conns)*calls, floorPayload)
			}
			if got := bytes.Count(b, []byte("\n")); got != len(conns)*calls {
				t.Errorf("%s: %s holds %d records, want %d", tt.method, f, got, len(conns)*calls)
			}
		}
	}
}

func TestFloorServiceRejectsEmptyRecord(t *testing.T) {
	conn, _, _ := startFloorServer(t, t.TempDir())
	err := conn.Invoke(context.Background(), floorOneFile, wrapperspb.Bytes(nil), new(emptypb.Empty))
	if got := status.Code(err); got != codes.InvalidArgument {
		t.Errorf("Append(empty) code = %v (%v), want InvalidArgument", got, err)
	}
}

// The bare process (this test binary, see TestMain) serves the health
// check and the durable floor: the bench's own points run against it.
func TestBareProcessServesDurableFloor(t *testing.T) {
	dir := t.TempDir()
	bare, err := startBare(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer bare.stop()
	conns, err := dialGRPC(bare.addr, 2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for _, run := range []op{emptyOps(conns), floorOps(conns, floorOneFile), floorOps(conns, floorTwoFiles)} {
		if n, err := run(context.Background(), 1, rng); err != nil || n != 1 {
			t.Errorf("call = %d, %v, want 1, nil", n, err)
		}
	}
	if _, err := bare.cpu()(); err != nil {
		t.Errorf("bare server CPU: %v", err)
	}
	for _, f := range []string{"one.log", "audit.log", "wal.log"} {
		fi, err := os.Stat(filepath.Join(dir, "floor", f))
		if err != nil {
			t.Errorf("floor/%s: %v", f, err)
			continue
		}
		if fi.Size() != floorPayload {
			t.Errorf("floor/%s holds %d bytes, want %d (one record)", f, fi.Size(), floorPayload)
		}
	}
}
