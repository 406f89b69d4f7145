package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// TestTracing: a call continues the caller's W3C trace; the server span
// has children for the store commit and the audit append; key refreshes
// have their own span; no attribute holds a value, token or subject; log
// lines of the call carry its trace id.
func TestTracing(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	logs := &syncBuffer{}
	h := servertest.Start(t, servertest.Options{Config: withMetrics(examples.Config), TracerProvider: tp, Logs: logs})
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	ctx := metadata.AppendToOutgoingContext(context.Background(), "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	const secret, subject = "4111111111111111", "cust-trace-77"
	res, err := h.Client(checkout).TokenizeBatch(ctx, []client.TokenizeItem{{Class: "card_number", Value: []byte(secret), SubjectID: subject}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("TokenizeBatch() = %v, %v", res, err)
	}
	tok := res[0].Token
	if _, err := h.Client(checkout).Detokenize(context.Background(), "payment", "card_number", tok); err != nil {
		t.Fatalf("Detokenize() error = %v", err)
	}

	// A server span ends when the stats handler sees the RPC's end, which
	// can come just after the client has its answer: wait for both.
	spans := endedSpans(rec, "privacyvault.v1.TokenService/Tokenize", "privacyvault.v1.TokenService/Detokenize")
	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byName[s.Name()] = append(byName[s.Name()], s)
		for _, a := range s.Attributes() {
			v := a.Value.String()
			for _, leak := range []string{secret, subject, tok} {
				if strings.Contains(v, leak) {
					t.Errorf("span %s attribute %s = %q holds a value, token or subject", s.Name(), a.Key, v)
				}
			}
		}
	}
	call := byName["privacyvault.v1.TokenService/Tokenize"]
	if len(call) != 1 {
		t.Fatalf("Tokenize server spans = %d, want 1 (spans: %v)", len(call), names(spans))
	}
	if got := call[0].SpanContext().TraceID().String(); got != traceID {
		t.Errorf("Tokenize span trace id = %s, want the caller's %s", got, traceID)
	}
	for _, name := range []string{"privacyvault.store.commit", "privacyvault.audit.append"} {
		found := false
		for _, s := range byName[name] {
			if s.Parent().SpanID() == call[0].SpanContext().SpanID() {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s span under the Tokenize span (spans: %v)", name, names(spans))
		}
	}
	if len(byName["privacyvault.keys.refresh"]) == 0 {
		t.Errorf("no privacyvault.keys.refresh span (spans: %v)", names(spans))
	}
	if len(byName["privacyvault.v1.TokenService/Detokenize"]) != 1 {
		t.Errorf("Detokenize server spans = %d, want 1", len(byName["privacyvault.v1.TokenService/Detokenize"]))
	}

	// The latency histogram links to the trace (OpenMetrics exemplar).
	req, _ := http.NewRequest("GET", "http://"+h.Server.MetricsAddr().String()+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	om, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !exemplar(om, "Tokenize", traceID) {
		t.Errorf("no Tokenize latency exemplar with trace_id %s in the OpenMetrics scrape", traceID)
	}

	found := false
	for _, line := range strings.Split(logs.String(), "\n") {
		var l struct {
			Method  string `json:"grpc.method"`
			TraceID string `json:"trace_id"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Method == "Tokenize" {
			found = true
			if l.TraceID != traceID {
				t.Errorf("Tokenize log line trace_id = %q, want %s: %s", l.TraceID, traceID, line)
			}
		}
	}
	if !found {
		t.Errorf("no log line for the Tokenize call:\n%s", logs.String())
	}
}

// exemplar reports whether an OpenMetrics scrape has a latency bucket of
// method with an exemplar naming traceID.
func exemplar(scrape []byte, method, traceID string) bool {
	re := regexp.MustCompile(`grpc_server_handling_seconds_bucket\{[^}]*grpc_method="` + method + `"[^}]*\} \d+ # \{trace_id="` + traceID + `"\}`)
	return re.Match(scrape)
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}

// TestTracingFromEnv: with OTEL_EXPORTER_OTLP_ENDPOINT set, spans reach an
// OTLP/HTTP collector (flushed at Stop) under OTEL_SERVICE_NAME.
func TestTracingFromEnv(t *testing.T) {
	var mu sync.Mutex
	var got []*coltrace.ExportTraceServiceRequest
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := &coltrace.ExportTraceServiceRequest{}
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, req)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Write(b)
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_SERVICE_NAME", "checkout-sidecar")
	h := servertest.Start(t, servertest.Options{Config: examples.Config})
	tokenize(t, h.Client(checkout), "email", "bob@example.com")
	h.Stop()

	mu.Lock()
	defer mu.Unlock()
	spans, service := map[string]bool{}, ""
	for _, req := range got {
		for _, rs := range req.GetResourceSpans() {
			for _, a := range rs.GetResource().GetAttributes() {
				if a.GetKey() == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					spans[s.GetName()] = true
				}
			}
		}
	}
	for _, want := range []string{"privacyvault.v1.TokenService/Tokenize", "privacyvault.audit.append", "privacyvault.store.commit"} {
		if !spans[want] {
			t.Errorf("collector did not receive span %s (got %v)", want, spans)
		}
	}
	if service != "checkout-sidecar" {
		t.Errorf("service.name = %q, want OTEL_SERVICE_NAME checkout-sidecar", service)
	}
}

// TestTracingEnvErrors: tracing is off by default and an unsupported
// exporter stops the start with a clear error.
func TestTracingEnvErrors(t *testing.T) {
	tp, err := server.TracingFromEnv(context.Background())
	if tp != nil || err != nil {
		t.Errorf("TracingFromEnv() with no OTEL_* variables = %v, %v, want nil, nil (off)", tp, err)
	}
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
	if _, err := server.TracingFromEnv(context.Background()); err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_PROTOCOL") {
		t.Errorf("TracingFromEnv(protocol http/json) error = %v, want one naming OTEL_EXPORTER_OTLP_PROTOCOL", err)
	}
	t.Setenv("OTEL_TRACES_EXPORTER", "zipkin")
	cfg, err := config.Parse("c.yaml", examples.Config)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir, cfg.Server.Listen = t.TempDir(), "127.0.0.1:0"
	_, err = server.Start(context.Background(), server.Options{Config: cfg, Dev: true})
	if err == nil || !strings.Contains(err.Error(), "OTEL_TRACES_EXPORTER") {
		t.Errorf("Start(OTEL_TRACES_EXPORTER=zipkin) error = %v, want one naming OTEL_TRACES_EXPORTER", err)
	}
}

// grpcCollector is an OTLP/gRPC trace collector that keeps span names.
type grpcCollector struct {
	coltrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans map[string]bool
}

func (c *grpcCollector) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans[s.GetName()] = true
			}
		}
	}
	return &coltrace.ExportTraceServiceResponse{}, nil
}

// TestTracingFromEnvGRPC: OTEL_EXPORTER_OTLP_PROTOCOL=grpc exports over
// OTLP/gRPC.
func TestTracingFromEnvGRPC(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	col := &grpcCollector{spans: map[string]bool{}}
	gs := grpc.NewServer()
	coltrace.RegisterTraceServiceServer(gs, col)
	go gs.Serve(lis)
	defer gs.Stop()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+lis.Addr().String())
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	h := servertest.Start(t, servertest.Options{Config: examples.Config})
	tokenize(t, h.Client(checkout), "email", "carol@example.com")
	h.Stop()

	col.mu.Lock()
	defer col.mu.Unlock()
	if !col.spans["privacyvault.v1.TokenService/Tokenize"] || !col.spans["privacyvault.audit.append"] {
		t.Errorf("gRPC collector received spans %v, want the Tokenize call and its audit append", col.spans)
	}
}

// endedSpans returns the spans rec has seen end once one of each name is
// among them, or after 10 s (the caller's checks then report what is
// missing).
func endedSpans(rec *tracetest.SpanRecorder, names ...string) []sdktrace.ReadOnlySpan {
	deadline := time.Now().Add(10 * time.Second)
	for {
		spans := rec.Ended()
		seen := map[string]bool{}
		for _, s := range spans {
			seen[s.Name()] = true
		}
		all := true
		for _, n := range names {
			all = all && seen[n]
		}
		if all || time.Now().After(deadline) {
			return spans
		}
		time.Sleep(10 * time.Millisecond)
	}
}
