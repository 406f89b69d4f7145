package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The durable floor: the least any gRPC service that makes each call's
// record durable before answering costs on this machine. The bare server
// serves it beside its health service: each call appends its payload to a
// file on the data disk through one writer goroutine, which writes every
// group of waiting calls at once, fdatasyncs, and only then answers them
// (group commit). Append2 writes and syncs two files per group, as the
// sidecar does today (audit log and store WAL, synced side by side).

// floorService is hand-written (no proto of the project changes): its
// methods take a BytesValue and answer Empty.
const floorService = "privacyvault.bench.v1.DurableFloor"

const (
	floorOneFile  = "/" + floorService + "/Append"
	floorTwoFiles = "/" + floorService + "/Append2"
)

// floorPayload is the bytes each floor call appends: about an audit event.
const floorPayload = 200

// maxFloorGroup bounds one group, as the sidecar's committers bound theirs.
const maxFloorGroup = 256

// groupLog appends records to its files with group commit.
type groupLog struct {
	files []*os.File
	reqs  chan appendReq
	done  chan struct{}
	// groups and records count what run wrote (read after close).
	groups, records int
}

type appendReq struct {
	data []byte
	ack  chan error
}

// openGroupLog opens (appending) one file per path and starts the writer.
func openGroupLog(paths ...string) (*groupLog, error) {
	g := &groupLog{reqs: make(chan appendReq), done: make(chan struct{})}
	for _, p := range paths {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			g.closeFiles()
			return nil, err
		}
		g.files = append(g.files, f)
	}
	go g.run()
	return g, nil
}

// Append returns once data is written and synced in every file.
func (g *groupLog) Append(data []byte) error {
	ack := make(chan error, 1)
	g.reqs <- appendReq{data, ack}
	return <-ack
}

// close stops the writer once every Append has returned.
func (g *groupLog) close() error {
	close(g.reqs)
	<-g.done
	return g.closeFiles()
}

func (g *groupLog) closeFiles() error {
	var errs []error
	for _, f := range g.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// run is the writer: it takes the first waiting call, every call that
// waits behind it (up to maxFloorGroup), writes them in one write per
// file, syncs the files side by side and answers the group.
func (g *groupLog) run() {
	defer close(g.done)
	var group []appendReq
	var buf []byte
	for first := range g.reqs {
		group = append(group[:0], first)
	drain:
		for len(group) < maxFloorGroup {
			select {
			case r, ok := <-g.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
			default:
				break drain
			}
		}
		buf = buf[:0]
		for _, r := range group {
			buf = append(buf, r.data...)
		}
		err := g.writeSync(buf)
		g.groups++
		g.records += len(group)
		for _, r := range group {
			r.ack <- err
		}
	}
}

// writeSync writes buf to every file and fdatasyncs them concurrently.
func (g *groupLog) writeSync(buf []byte) error {
	errs := make(chan error, len(g.files))
	for _, f := range g.files[1:] {
		go func() { errs <- writeSyncFile(f, buf) }()
	}
	err := writeSyncFile(g.files[0], buf)
	for range g.files[1:] {
		err = errors.Join(err, <-errs)
	}
	return err
}

func writeSyncFile(f *os.File, buf []byte) error {
	if _, err := f.Write(buf); err != nil {
		return err
	}
	return unix.Fdatasync(int(f.Fd()))
}

// registerFloor serves one and two as floorOneFile and floorTwoFiles.
func registerFloor(s *grpc.Server, one, two *groupLog) {
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: floorService,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "Append", Handler: appendHandler(one)},
			{MethodName: "Append2", Handler: appendHandler(two)},
		},
	}, struct{}{})
}

func appendHandler(g *groupLog) grpc.MethodHandler {
	return func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		in := new(wrapperspb.BytesValue)
		if err := dec(in); err != nil {
			return nil, err
		}
		if len(in.GetValue()) == 0 {
			return nil, status.Error(codes.InvalidArgument, "empty record")
		}
		if err := g.Append(in.GetValue()); err != nil {
			return nil, status.Error(codes.Internal, "append failed")
		}
		return &emptypb.Empty{}, nil
	}
}

// openFloorLogs opens the one-file and two-file logs under dir.
func openFloorLogs(dir string) (one, two *groupLog, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	if one, err = openGroupLog(filepath.Join(dir, "one.log")); err != nil {
		return nil, nil, err
	}
	if two, err = openGroupLog(filepath.Join(dir, "audit.log"), filepath.Join(dir, "wal.log")); err != nil {
		one.close()
		return nil, nil, err
	}
	return one, two, nil
}

// floorOps calls method (floorOneFile or floorTwoFiles) with a fresh
// ~200-byte record per call.
func floorOps(conns []*grpc.ClientConn, method string) op {
	return func(ctx context.Context, w int, rng *rand.Rand) (int, error) {
		rec := make([]byte, floorPayload)
		for i := range rec {
			rec[i] = byte('a' + rng.IntN(26))
		}
		rec[len(rec)-1] = '\n'
		if err := conns[w].Invoke(ctx, method, wrapperspb.Bytes(rec), new(emptypb.Empty)); err != nil {
			return 0, fmt.Errorf("durable floor: %w", err)
		}
		return 1, nil
	}
}
