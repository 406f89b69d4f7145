package server

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/validator"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/identity"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	"github.com/privacyvault/privacyvault/server/api"
)

// chains returns the unary and stream chains, outermost first:
// logging sees the final code of every call; recovery turns a panic into
// Internal without logging its value (which could hold request data);
// errors maps domain errors in one place; auth sets the caller identity
// (health and reflection are open, as probes and grpcurl need them);
// validation checks request-level rules.
func chains(log *slog.Logger, a *authenticator) ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor) {
	recOpts := []recovery.Option{recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in handler", "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	})}
	authFn := func(ctx context.Context) (context.Context, error) {
		id, err := a.authenticate(ctx)
		if err != nil {
			return nil, err
		}
		// The logging interceptor runs outside this one; the note puts the
		// caller on its "finished call" line.
		noteCaller(ctx, string(id))
		return identity.NewContext(ctx, id), nil
	}
	needsAuth := selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool {
		return !strings.HasPrefix(c.Service, "grpc.health.") && !strings.HasPrefix(c.Service, "grpc.reflection.")
	})
	unary := []grpc.UnaryServerInterceptor{
		logUnary(log),
		recovery.UnaryServerInterceptor(recOpts...),
		errorsUnary(log),
		selector.UnaryServerInterceptor(auth.UnaryServerInterceptor(authFn), needsAuth),
		validateUnary,
	}
	stream := []grpc.StreamServerInterceptor{
		logStream(log),
		recovery.StreamServerInterceptor(recOpts...),
		errorsStream(log),
		selector.StreamServerInterceptor(auth.StreamServerInterceptor(authFn), needsAuth),
		validator.StreamServerInterceptor(),
	}
	return unary, stream
}

// validateUnary applies the request's Validate method. A broken field
// becomes a core.InvalidError, so the errors interceptor answers
// InvalidArgument with a field violation, as for a bad item.
func validateUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if v, ok := req.(interface{ Validate() error }); ok {
		err := v.Validate()
		var fe *pb.FieldError
		switch {
		case errors.As(err, &fe):
			return nil, core.Invalid(fe.Field, "%s", fe.Reason)
		case err != nil:
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
	}
	return h(ctx, req)
}

// callLevel is the level of a call's "finished call" line. The audit log is
// the record of data access, so a successful call is a debug line (writing
// one JSON line per call at info cost more than the rest of an empty call);
// a refused or invalid call is info and a server fault a warning, so what
// needs attention still shows at the default level.
func callLevel(c codes.Code) slog.Level {
	switch c {
	case codes.OK:
		return slog.LevelDebug
	case codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// errorsUnary is the one place where handler errors become gRPC statuses,
// and where a server fault is logged — once.
func errorsUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if err != nil {
			return nil, mapError(ctx, log, info.FullMethod, err)
		}
		return resp, nil
	}
}

func errorsStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if err := h(srv, ss); err != nil {
			return mapError(ss.Context(), log, info.FullMethod, err)
		}
		return nil
	}
}

func mapError(ctx context.Context, log *slog.Logger, method string, err error) error {
	st, internal := api.Status(err, "")
	if internal {
		log.ErrorContext(ctx, "call failed", "grpc.method", method, "error", err)
	}
	return st.Err()
}
