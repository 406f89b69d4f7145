package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// callNote is where inner interceptors leave what the call's log line
// should name (the authenticated caller).
type callNote struct{ caller string }

type callNoteKey struct{}

// noteCaller records the caller for the call's log line.
func noteCaller(ctx context.Context, caller string) {
	if n, ok := ctx.Value(callNoteKey{}).(*callNote); ok {
		n.caller = caller
	}
}

// logUnary writes one "finished call" line per call at callLevel(code).
// Nothing is formatted unless the line is enabled, so a successful call
// under the default info level costs a clock read and a context value.
func logUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		start := time.Now()
		n := &callNote{}
		resp, err := h(context.WithValue(ctx, callNoteKey{}, n), req)
		logCall(ctx, log, info.FullMethod, "unary", start, n, err)
		return resp, err
	}
}

func logStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		start := time.Now()
		n := &callNote{}
		err := h(srv, &noteStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), callNoteKey{}, n)})
		logCall(ss.Context(), log, info.FullMethod, "stream", start, n, err)
		return err
	}
}

// noteStream carries the call note in the stream's context.
type noteStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *noteStream) Context() context.Context { return s.ctx }

func logCall(ctx context.Context, log *slog.Logger, fullMethod, kind string, start time.Time, n *callNote, err error) {
	code := status.Code(err)
	level := callLevel(code)
	if !log.Enabled(ctx, level) {
		return
	}
	service, method, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	attrs := []slog.Attr{
		slog.String("protocol", protocol(ctx)),
		slog.String("grpc.component", "server"),
		slog.String("grpc.service", service),
		slog.String("grpc.method", method),
		slog.String("grpc.method_type", kind),
		slog.String("grpc.code", code.String()),
		slog.String("grpc.time_ms", fmt.Sprintf("%.3f", float64(time.Since(start))/1e6)),
	}
	if err != nil {
		// The status message, already mapped: it never holds payloads.
		attrs = append(attrs, slog.String("grpc.error", status.Convert(err).Message()))
	}
	if n.caller != "" {
		attrs = append(attrs, slog.String("caller", n.caller))
	}
	log.LogAttrs(ctx, level, "finished call", attrs...)
}
