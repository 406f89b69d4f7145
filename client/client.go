// Package client is the Go SDK for the privacyvault sidecar: dial helpers,
// batch calls with per-item errors as Go errors, and single-value
// convenience wrappers.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// Client calls one sidecar. It is safe for concurrent use.
type Client struct {
	conn     *grpc.ClientConn
	tokens   pb.TokenServiceClient
	maxBatch atomic.Int64
	// direct makes the batch calls encode and decode the SDK's own types
	// (wire.go): true for a client made by Dial without WithDialOptions.
	direct bool
}

type options struct {
	maxBatch int
	bearer   string
	tls      *tls.Config
	insecure bool
	dial     []grpc.DialOption
}

// Option configures Dial.
type Option func(*options)

// WithBearerToken sends token as "authorization: Bearer <token>" on every
// call.
func WithBearerToken(token string) Option { return func(o *options) { o.bearer = token } }

// WithMaxBatch sets the most items the client sends in one call (default
// DefaultMaxBatch, the server's default limit). Larger batches are split.
// A server with a lower limit says so when it refuses a part, and the
// client then splits to that.
func WithMaxBatch(n int) Option { return func(o *options) { o.maxBatch = n } }

// WithTLS uses TLS with cfg.
func WithTLS(cfg *tls.Config) Option { return func(o *options) { o.tls = cfg } }

// WithInsecure uses a plaintext connection. Fit only for loopback and Unix
// sockets, where a sidecar and its service share a host.
func WithInsecure() Option { return func(o *options) { o.insecure = true } }

// WithDialOptions adds raw gRPC dial options. Interceptors and stats
// handlers among them see the batch calls' requests and replies as
// protobuf messages; without dial options the batch calls skip them and
// encode the SDK's items and decode its results directly (same bytes on
// the wire, less CPU).
func WithDialOptions(d ...grpc.DialOption) Option {
	return func(o *options) { o.dial = append(o.dial, d...) }
}

// flowWindow is the HTTP/2 flow-control window of a stream and of the
// connection (WithDialOptions may set others).
const flowWindow = 1 << 20

// Dial connects to the sidecar at target: "host:port" or "unix:///path".
// One of WithTLS or WithInsecure is required, so that a plaintext
// connection is always a visible choice.
func Dial(target string, opts ...Option) (*Client, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	var dial []grpc.DialOption
	switch {
	case o.tls != nil:
		dial = append(dial, grpc.WithTransportCredentials(credentials.NewTLS(o.tls)))
	case o.insecure:
		dial = append(dial, grpc.WithTransportCredentials(insecure.NewCredentials()))
	default:
		return nil, errors.New("client: choose WithTLS or WithInsecure")
	}
	if o.bearer != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(newBearer(o.bearer, o.tls != nil)))
	}
	// Fixed flow-control windows, as the server has: gRPC otherwise
	// pings the sidecar on every response to estimate a bandwidth that a
	// loopback or Unix socket does not limit.
	dial = append(dial, grpc.WithInitialWindowSize(flowWindow), grpc.WithInitialConnWindowSize(flowWindow))
	if !strings.Contains(target, "://") {
		target = "passthrough:///" + target
	}
	conn, err := grpc.NewClient(target, append(dial, o.dial...)...)
	if err != nil {
		return nil, fmt.Errorf("client: dial: %w", err)
	}
	c := New(conn)
	c.direct = len(o.dial) == 0
	if o.maxBatch > 0 {
		c.maxBatch.Store(int64(o.maxBatch))
	}
	return c, nil
}

// New returns a Client over an existing connection, which Close closes.
func New(conn *grpc.ClientConn) *Client {
	c := &Client{conn: conn, tokens: pb.NewTokenServiceClient(conn)}
	c.maxBatch.Store(DefaultMaxBatch)
	return c
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Conn returns the underlying connection, e.g. for health checks.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// bearer sends a fixed authorization header. Its metadata map is built
// once: gRPC calls GetRequestMetadata on every call and copies the map
// into the call's headers without changing it.
type bearer struct {
	md     map[string]string
	secure bool
}

func newBearer(token string, secure bool) bearer {
	return bearer{md: map[string]string{"authorization": "Bearer " + token}, secure: secure}
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return b.md, nil
}

// RequireTransportSecurity is false only for connections the caller made
// plaintext on purpose (WithInsecure).
func (b bearer) RequireTransportSecurity() bool { return b.secure }
