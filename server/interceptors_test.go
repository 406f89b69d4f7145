package server

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"google.golang.org/grpc/codes"
)

func TestCallLevel(t *testing.T) {
	tests := []struct {
		code codes.Code
		want slog.Level
	}{
		{codes.OK, slog.LevelDebug},
		{codes.InvalidArgument, slog.LevelInfo},
		{codes.PermissionDenied, slog.LevelInfo},
		{codes.Unauthenticated, slog.LevelInfo},
		{codes.NotFound, slog.LevelInfo},
		{codes.ResourceExhausted, slog.LevelInfo},
		{codes.Internal, slog.LevelWarn},
		{codes.Unavailable, slog.LevelWarn},
		{codes.DataLoss, slog.LevelWarn},
	}
	for _, tt := range tests {
		if got := callLevel(tt.code); got != tt.want {
			t.Errorf("callLevel(%v) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

// logOnce runs one call through logUnary at info level with a handler
// that notes caller "app" and returns err, and returns what was logged.
func logOnce(t *testing.T, err error) string {
	t.Helper()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := func(ctx context.Context, req any) (any, error) {
		noteCaller(ctx, "app")
		return nil, err
	}
	info := &grpc.UnaryServerInfo{FullMethod: "/privacyvault.v1.TokenService/Tokenize"}
	if _, got := logUnary(log)(context.Background(), nil, info, h); got != err {
		t.Errorf("logUnary returned %v, want the handler's %v", got, err)
	}
	return buf.String()
}

func TestLogUnarySuccessIsDebug(t *testing.T) {
	if out := logOnce(t, nil); out != "" {
		t.Errorf("successful call logged %q at info, want nothing", out)
	}
}

func TestLogUnaryFailures(t *testing.T) {
	tests := []struct {
		err  error
		want []string
	}{
		{status.Error(codes.PermissionDenied, "denied"), []string{`"level":"INFO"`, `"grpc.code":"PermissionDenied"`, `"caller":"app"`, `"grpc.method":"Tokenize"`}},
		{status.Error(codes.Internal, "internal error"), []string{`"level":"WARN"`, `"grpc.code":"Internal"`, `"grpc.service":"privacyvault.v1.TokenService"`}},
	}
	for _, tt := range tests {
		out := logOnce(t, tt.err)
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("call failing with %v logged %q, want it to contain %s", tt.err, out, w)
			}
		}
	}
}
