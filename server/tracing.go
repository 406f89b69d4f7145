package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"github.com/privacyvault/privacyvault/internal/version"
)

// tracerName is the instrumentation scope of privacyvault's own spans.
const tracerName = "github.com/privacyvault/privacyvault/server"

// TracingFromEnv builds a tracer provider with an OTLP exporter configured
// by the standard OTEL_* environment variables. Tracing is off (nil, nil)
// unless OTEL_TRACES_EXPORTER=otlp or an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
// set; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn it off.
// OTEL_EXPORTER_OTLP_PROTOCOL picks http/protobuf (the default) or grpc;
// the exporters read headers, TLS and timeouts, the SDK reads the sampler
// (OTEL_TRACES_SAMPLER) and batching (OTEL_BSP_*), and OTEL_SERVICE_NAME /
// OTEL_RESOURCE_ATTRIBUTES name the service (default privacyvault).
func TracingFromEnv(ctx context.Context) (*sdktrace.TracerProvider, error) {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return nil, nil
	}
	switch exp := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")); exp {
	case "none":
		return nil, nil
	case "":
		if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
			return nil, nil
		}
	case "otlp":
	default:
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: privacyvault supports otlp and none", exp)
	}
	proto := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var client otlptrace.Client
	switch proto {
	case "", "http/protobuf":
		client = otlptracehttp.NewClient()
	case "grpc":
		client = otlptracegrpc.NewClient()
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%q: privacyvault supports http/protobuf and grpc", proto)
	}
	exp, err := otlptrace.New(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	// Later detectors win: the environment overrides the defaults.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "privacyvault"),
			attribute.String("service.version", version.Get().Version)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("otel resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// tracing holds the tracer provider in use (nil: tracing off).
type tracing struct {
	tp trace.TracerProvider
}

// setupTracing picks the provider from Options or the environment and
// registers the SDK provider's flush with the server's shutdown.
func (s *Server) setupTracing(ctx context.Context, o Options) (tracing, error) {
	if o.TracerProvider != nil {
		return tracing{tp: o.TracerProvider}, nil
	}
	tp, err := TracingFromEnv(ctx)
	if err != nil || tp == nil {
		return tracing{}, err
	}
	s.close = append(s.close, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return tp.Shutdown(ctx)
	})
	return tracing{tp: tp}, nil
}

func (t tracing) tracer() trace.Tracer {
	if t.tp == nil {
		return nil
	}
	return t.tp.Tracer(tracerName, trace.WithInstrumentationVersion(version.Get().Version))
}

// serverOptions adds the otelgrpc stats handler (a server span per call,
// W3C trace context from the caller); health checks are not traced, as
// probes would drown the real calls.
func (t tracing) serverOptions() []grpc.ServerOption {
	if t.tp == nil {
		return nil
	}
	return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(t.tp),
		otelgrpc.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
		otelgrpc.WithFilter(func(i *stats.RPCTagInfo) bool { return !strings.HasPrefix(i.FullMethodName, "/grpc.health.") }),
	))}
}

// logger adds trace_id and span_id to every log line written within a
// traced call.
func (t tracing) logger(l *slog.Logger) *slog.Logger {
	if t.tp == nil {
		return l
	}
	return slog.New(traceHandler{l.Handler()})
}

type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(as)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}
