package server

import (
	"context"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// inproc registers services on the gRPC server and also lets the HTTP
// gateway call their unary and server-streaming methods in process,
// through the same interceptor chains as a gRPC call: authentication,
// authorization, audit, validation and the error mapping then cannot
// differ between the two.
type inproc struct {
	grpc    grpc.ServiceRegistrar
	unary   grpc.UnaryServerInterceptor
	stream  grpc.StreamServerInterceptor
	methods map[string]inprocMethod
	streams map[string]inprocStream
}

type inprocMethod struct {
	impl    any
	handler grpc.MethodHandler
}

type inprocStream struct {
	impl    any
	handler grpc.StreamHandler
	client  bool // client streaming: not offered over HTTP
}

var (
	_ grpc.ServiceRegistrar    = (*inproc)(nil)
	_ grpc.ClientConnInterface = (*inproc)(nil)
)

func newInproc(g grpc.ServiceRegistrar, unary []grpc.UnaryServerInterceptor, stream []grpc.StreamServerInterceptor) *inproc {
	return &inproc{
		grpc: g, unary: chainUnary(unary), stream: chainStream(stream),
		methods: map[string]inprocMethod{}, streams: map[string]inprocStream{},
	}
}

// RegisterService implements grpc.ServiceRegistrar.
func (p *inproc) RegisterService(desc *grpc.ServiceDesc, impl any) {
	p.grpc.RegisterService(desc, impl)
	for _, m := range desc.Methods {
		p.methods["/"+desc.ServiceName+"/"+m.MethodName] = inprocMethod{impl: impl, handler: m.Handler}
	}
	for _, st := range desc.Streams {
		p.streams["/"+desc.ServiceName+"/"+st.StreamName] = inprocStream{impl: impl, handler: st.Handler, client: st.ClientStreams}
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
	ctx = incoming(ctx)
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

// incoming turns the gateway's outgoing metadata (the Authorization header
// among it) into the incoming metadata a gRPC handler sees; the peer (with
// the client's TLS state) is already in ctx.
func incoming(ctx context.Context) context.Context {
	md, _ := metadata.FromOutgoingContext(ctx)
	return metadata.NewIncomingContext(metadata.NewOutgoingContext(ctx, nil), md)
}

// NewStream runs a server-streaming method: the handler runs in its own
// goroutine and hands each message over unbuffered, so a slow HTTP client
// slows the handler instead of filling memory. Client-streaming methods
// are served over gRPC only.
func (p *inproc) NewStream(ctx context.Context, _ *grpc.StreamDesc, method string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
	s, ok := p.streams[method]
	if !ok || s.client {
		return nil, status.Errorf(codes.Unimplemented, "%s streams from the client: call it over gRPC", method)
	}
	ctx, cancel := context.WithCancel(incoming(ctx))
	c := &inprocClient{ctx: ctx, cancel: cancel, req: make(chan proto.Message, 1), msgs: make(chan proto.Message), done: make(chan struct{})}
	info := &grpc.StreamServerInfo{FullMethod: method, IsServerStream: true}
	go func() {
		defer close(c.done)
		c.err = p.stream(s.impl, &inprocServer{ctx: ctx, c: c}, info, s.handler)
	}()
	return c, nil
}

// inprocClient is the gateway's end of an in-process stream.
type inprocClient struct {
	ctx    context.Context
	cancel context.CancelFunc
	req    chan proto.Message // the one request, then closed
	msgs   chan proto.Message
	done   chan struct{} // closed when the handler returned; err is then set
	err    error
	sent   bool
}

func (c *inprocClient) Header() (metadata.MD, error) { return metadata.MD{}, nil }
func (c *inprocClient) Trailer() metadata.MD         { return metadata.MD{} }
func (c *inprocClient) Context() context.Context     { return c.ctx }

func (c *inprocClient) CloseSend() error {
	if !c.sent {
		c.sent = true
		close(c.req)
	}
	return nil
}

func (c *inprocClient) SendMsg(m any) error {
	if c.sent {
		return status.Error(codes.Internal, "inproc: one request per server stream")
	}
	c.req <- proto.Clone(m.(proto.Message))
	c.sent = true
	close(c.req)
	return nil
}

func (c *inprocClient) RecvMsg(m any) error {
	select {
	case msg := <-c.msgs:
		proto.Merge(m.(proto.Message), msg)
		return nil
	case <-c.done:
		// The handler returned, so nothing is left in flight on msgs.
		c.cancel()
		if c.err != nil {
			return c.err
		}
		return io.EOF
	}
}

// inprocServer is the handler's end of an in-process stream.
type inprocServer struct {
	ctx context.Context
	c   *inprocClient
}

var _ grpc.ServerStream = (*inprocServer)(nil)

func (s *inprocServer) SetHeader(metadata.MD) error  { return nil }
func (s *inprocServer) SendHeader(metadata.MD) error { return nil }
func (s *inprocServer) SetTrailer(metadata.MD)       {}
func (s *inprocServer) Context() context.Context     { return s.ctx }

func (s *inprocServer) SendMsg(m any) error {
	select {
	case s.c.msgs <- proto.Clone(m.(proto.Message)):
		return nil
	case <-s.ctx.Done():
		return status.FromContextError(s.ctx.Err()).Err()
	}
}

func (s *inprocServer) RecvMsg(m any) error {
	select {
	case msg, ok := <-s.c.req:
		if !ok {
			return io.EOF
		}
		proto.Merge(m.(proto.Message), msg)
		return nil
	case <-s.ctx.Done():
		return status.FromContextError(s.ctx.Err()).Err()
	}
}

// chainStream nests stream interceptors, the first outermost.
func chainStream(ints []grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		next := h
		for i := len(ints) - 1; i >= 0; i-- {
			in, inner := ints[i], next
			next = func(srv any, ss grpc.ServerStream) error { return in(srv, ss, info, inner) }
		}
		return next(srv, ss)
	}
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
