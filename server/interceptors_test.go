package server

import (
	"testing"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"google.golang.org/grpc/codes"
)

func TestCallLevel(t *testing.T) {
	tests := []struct {
		code codes.Code
		want logging.Level
	}{
		{codes.OK, logging.LevelDebug},
		{codes.InvalidArgument, logging.LevelInfo},
		{codes.PermissionDenied, logging.LevelInfo},
		{codes.Unauthenticated, logging.LevelInfo},
		{codes.NotFound, logging.LevelInfo},
		{codes.ResourceExhausted, logging.LevelInfo},
		{codes.Internal, logging.LevelWarn},
		{codes.Unavailable, logging.LevelWarn},
		{codes.DataLoss, logging.LevelWarn},
	}
	for _, tt := range tests {
		if got := callLevel(tt.code); got != tt.want {
			t.Errorf("callLevel(%v) = %v, want %v", tt.code, got, tt.want)
		}
	}
}
