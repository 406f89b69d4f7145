package server

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// inproc registers services on the gRPC server and also lets the HTTP
// gateway call their unary methods in process, through the same
// interceptor chain as a gRPC call: authentication, authorization, audit,
// validation and the error mapping then cannot differ between the two.
type inproc struct {
	grpc    grpc.ServiceRegistrar
	unary   grpc.UnaryServerInterceptor
	methods map[string]inprocMethod
}

type inprocMethod struct {
	impl    any
	handler grpc.MethodHandler
}

var (
	_ grpc.ServiceRegistrar    = (*inproc)(nil)
	_ grpc.ClientConnInterface = (*inproc)(nil)
)

func newInproc(g grpc.ServiceRegistrar, chain []grpc.UnaryServerInterceptor) *inproc {
	return &inproc{grpc: g, unary: chainUnary(chain), methods: map[string]inprocMethod{}}
}

// RegisterService implements grpc.ServiceRegistrar.
func (p *inproc) RegisterService(desc *grpc.ServiceDesc, impl any) {
	p.grpc.RegisterService(desc, impl)
	for _, m := range desc.Methods {
		p.methods["/"+desc.ServiceName+"/"+m.MethodName] = inprocMethod{impl: impl, handler: m.Handler}
	}
}

// Invoke runs a unary method. The gateway's outgoing metadata (the
// Authorization header among it) becomes the incoming metadata a gRPC
// handler sees; the peer (with the client's TLS state) is already in ctx.
func (p *inproc) Invoke(ctx context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	m, ok := p.methods[method]
	if !ok {
		return status.Errorf(codes.Unimplemented, "%s is not served over HTTP", method)
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	ctx = metadata.NewIncomingContext(metadata.NewOutgoingContext(ctx, nil), md)
	dec := func(in any) error {
		proto.Merge(in.(proto.Message), args.(proto.Message))
		return nil
	}
	resp, err := m.handler(m.impl, ctx, dec, p.unary)
	if err != nil {
		return err
	}
	out, ok := resp.(proto.Message)
	if !ok {
		return fmt.Errorf("inproc: %s returned %T", method, resp)
	}
	proto.Merge(reply.(proto.Message), out)
	return nil
}

// NewStream implements grpc.ClientConnInterface; streaming methods are
// served over gRPC only.
func (p *inproc) NewStream(_ context.Context, _ *grpc.StreamDesc, method string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Errorf(codes.Unimplemented, "%s streams: call it over gRPC", method)
}

// chainUnary nests interceptors as grpc.ChainUnaryInterceptor does, the
// first outermost.
func chainUnary(ints []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		next := h
		for i := len(ints) - 1; i >= 0; i-- {
			in, inner := ints[i], next
			next = func(ctx context.Context, req any) (any, error) { return in(ctx, req, info, inner) }
		}
		return next(ctx, req)
	}
}
