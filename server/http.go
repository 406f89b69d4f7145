package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	"github.com/privacyvault/privacyvault/server/gateway"
)

// serveHTTP starts the HTTP/JSON gateway on addr: the unary methods of
// TokenService, SubjectService and AdminService under /v1/ (routes from the
// google.api.http annotations) and the OpenAPI document at /openapi.json.
// Calls run in process through the gRPC interceptor chain, so identity,
// policy, audit and errors are those of gRPC. tc, when set, is the mTLS
// server configuration.
func (s *Server) serveHTTP(addr string, conn *inproc, tc *tls.Config) error {
	gw := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, quietJSON{&runtime.JSONPb{
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
	)
	ctx := context.Background()
	for _, register := range []func() error{
		func() error { return pb.RegisterTokenServiceHandlerClient(ctx, gw, pb.NewTokenServiceClient(conn)) },
		func() error { return pb.RegisterSubjectServiceHandlerClient(ctx, gw, pb.NewSubjectServiceClient(conn)) },
		func() error { return pb.RegisterAdminServiceHandlerClient(ctx, gw, pb.NewAdminServiceClient(conn)) },
	} {
		if err := register(); err != nil {
			return fmt.Errorf("http gateway: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", withPeer(http.MaxBytesHandler(gw, maxMessageBytes)))
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(gateway.OpenAPI())
	})
	lis, err := Listen(addr)
	if err != nil {
		return fmt.Errorf("http gateway: %w", err)
	}
	if tc != nil {
		lis = tls.NewListener(lis, tc)
	}
	// No WriteTimeout: TailAudit streams until the client goes away. The
	// server's own errors (TLS handshakes) go to the JSON log.
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.httpLis = lis
	go func() {
		if err := s.http.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http gateway stopped", "error", err)
		}
	}()
	s.log.Info("privacyvault http gateway serving", "listen", lis.Addr().String(), "tls", tc != nil)
	return nil
}

// HTTPAddr returns the address of the HTTP gateway, or nil when it is off.
func (s *Server) HTTPAddr() net.Addr {
	if s.httpLis == nil {
		return nil
	}
	return s.httpLis.Addr()
}

// withPeer puts the HTTP client into the request context as a gRPC peer,
// with its TLS state, so the auth interceptor sees an mTLS client
// certificate exactly as it does on a gRPC connection; the call's log line
// says protocol=http.
func withPeer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := &peer.Peer{Addr: remoteAddr(r.RemoteAddr)}
		if r.TLS != nil {
			p.AuthInfo = credentials.TLSInfo{State: *r.TLS, CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}
		}
		ctx := context.WithValue(peer.NewContext(r.Context(), p), httpCallKey{}, true)
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// httpCallKey marks a call that came through the HTTP gateway.
type httpCallKey struct{}

// protocol names how a call arrived, for its log line.
func protocol(ctx context.Context) string {
	if ctx.Value(httpCallKey{}) != nil {
		return "http"
	}
	return "grpc"
}

type remoteAddr string

func (a remoteAddr) Network() string { return "tcp" }
func (a remoteAddr) String() string  { return string(a) }

// quietJSON is the gateway's JSON marshaler with request-body errors that
// never quote the body: protojson's syntax errors show the offending input,
// which may be personal data.
type quietJSON struct {
	*runtime.JSONPb
}

func (m quietJSON) NewDecoder(r io.Reader) runtime.Decoder {
	d := m.JSONPb.NewDecoder(r)
	return runtime.DecoderFunc(func(v any) error {
		err := d.Decode(v)
		if err == nil || errors.Is(err, io.EOF) {
			return err
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("request body: larger than %d bytes", tooBig.Limit)
		}
		// The gateway turns a decode error into InvalidArgument with
		// this text.
		return errors.New("request body: not valid JSON for this method (" + jsonHint(err) + ")")
	})
}

// jsonHint keeps the part of a protojson error that names a field or a
// position, and drops quoted input.
func jsonHint(err error) string {
	msg := err.Error()
	if i := strings.IndexAny(msg, `"`+"`"); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return strings.TrimSuffix(msg, ":")
}
