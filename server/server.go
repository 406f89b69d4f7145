// Package server wires privacyvault together: configuration, keys, store,
// the data plane and the gRPC server with its interceptors, health and
// reflection services.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/identity"
	"github.com/privacyvault/privacyvault/internal/batchcodec"
	"github.com/privacyvault/privacyvault/metrics"
	admin "github.com/privacyvault/privacyvault/server/api/admin/v1"
	subject "github.com/privacyvault/privacyvault/server/api/subject/v1"
	token "github.com/privacyvault/privacyvault/server/api/token/v1"
	"github.com/privacyvault/privacyvault/tokenizer"
)

// maxMessageBytes lets a full batch of maximum-size values through
// (10,000 × 64 KiB would be 640 MiB: far more than a sidecar should take in
// one message), so the message cap is 64 MiB and batches of large values
// must be split; the batch limit still gives a clear InvalidArgument.
const maxMessageBytes = 64 << 20

// flowWindow is the fixed HTTP/2 flow-control window of a stream and of a
// connection: a batch of 10,000 values fits in one.
const flowWindow = 1 << 20

// streamWorkers is how many goroutines serve calls before gRPC starts
// extra ones: more than a sidecar's usual concurrent callers.
const streamWorkers = 16

// Options configures Start.
type Options struct {
	// Config is the validated configuration. Its Server.Listen and
	// Server.DataDir are used as given (the caller resolves flags and env).
	Config *config.Config
	// ConfigPath is the file Config came from; when set, its policy
	// section is reloaded when the file changes and on ReloadPolicy.
	ConfigPath string
	// Dev allows static bearer tokens (callers); production identities come
	// from mTLS, JWT or Unix peer credentials.
	Dev bool
	// Logger receives all server logs. Nil means slog.Default().
	Logger *slog.Logger
	// TracerProvider receives the server's spans; nil means the OTLP
	// exporter configured by OTEL_* environment variables, or no tracing
	// when they are unset (see TracingFromEnv).
	TracerProvider trace.TracerProvider
	// HTTPListen, when set, serves the HTTP/JSON gateway and /openapi.json
	// there ("host:port"), with mTLS when identity.mtls is configured.
	HTTPListen string
	// Hooks wrap internal parts, for fault-injection tests only.
	Hooks Hooks
	// AcceptAuditLogReset starts even if the audit log does not reach the
	// chain head recorded outside it (truncated, deleted or replaced); the
	// reset is written to the log as an audit.reset event.
	AcceptAuditLogReset bool
	// AuditHook, if set, wraps the auditor the data plane writes through;
	// tests use it to make audit writes fail and recover.
	AuditHook func(core.Auditor) core.Auditor
}

// Server is a running sidecar.
type Server struct {
	cfg     *config.Config
	path    string
	core    *core.Service
	reg     *metrics.Registry
	grpc    *grpc.Server
	lis     net.Listener
	mlis    net.Addr // the metrics listener's address, nil when off
	http    *http.Server
	httpLis net.Listener
	health  *health.Server
	// auditState tracks whether audit writes fail, for health.
	auditState *auditHealth
	// storePing checks a store on a database server, for health; nil for
	// the embedded store.
	storePing pinger
	close     []func() error
	log       *slog.Logger
	done      chan error
}

// Start opens the store and keys, builds the data plane and starts serving
// on the configured listener. It returns once the listener is bound.
func Start(ctx context.Context, o Options) (*Server, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	cfg := o.Config
	s := &Server{log: log, done: make(chan error, 1), cfg: cfg, path: o.ConfigPath, reg: metrics.New()}
	ok := false
	fresh := newLeftovers(cfg)
	defer func() {
		if !ok {
			s.closeAll()
			if err := fresh.remove(); err != nil {
				log.Error("removing what the failed start created", "error", err)
			}
		}
	}()
	tr, err := s.setupTracing(ctx, o)
	if err != nil {
		return nil, err
	}
	log = tr.logger(log)
	s.log = log
	obs := observer{m: s.reg, tracer: tr.tracer()}

	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	s.close = append(s.close, st.Close)
	s.storePing, _ = st.(pinger)
	keys, err := openKeys(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	s.close = append(s.close, keys.Close)

	specs, err := classSpecs(cfg)
	if err != nil {
		return nil, err
	}
	pol, err := cfg.BuildPolicy()
	if err != nil {
		return nil, err
	}
	authn, err := newAuthenticator(cfg, o.Dev, log)
	if err != nil {
		return nil, err
	}
	fps, err := fingerprints(ctx, keys)
	if err != nil {
		return nil, err
	}
	trail, err := s.openTrail(ctx, cfg, st, keys, fps, log, o.AcceptAuditLogReset)
	if err != nil {
		return nil, err
	}
	signer := trail.signer
	var grace time.Duration
	if cfg.Keys.Provider != "dev" {
		grace = cfg.Keys.GracePeriod.Std()
	}
	var aud core.Auditor = observedAuditor{trail.auditor, obs}
	if o.AuditHook != nil {
		aud = o.AuditHook(aud)
	}
	s.auditState = &auditHealth{next: aud}
	dp, err := core.New(ctx, core.Config{
		Classes:       specs,
		Store:         observedStore{st, obs},
		Keys:          keys,
		Policy:        pol,
		Auditor:       s.auditState,
		Fingerprints:  fps,
		Alerts:        s.reg,
		Observer:      obs,
		Receipts:      o.Hooks.receipts(signer),
		MaxValueBytes: cfg.Server.MaxValueBytes,
		GracePeriod:   grace,
		Logger:        log,
		Leases:        jobLeases(cfg, st),
		JointCommit:   trail.joint,
		Now:           o.Hooks.Now,
	})
	if err != nil {
		return nil, err
	}
	s.core = dp
	s.reg.WatchKeys(dp.KeyHealth, cfg.Keys.RefreshInterval.Std())
	if sized, ok := st.(interface{ Sizes() map[string]int64 }); ok {
		s.reg.WatchStoreSize(sized.Sizes) // the embedded store's disk use
	}
	s.close = append(s.close, func() error { dp.Close(); return nil })
	if err := dp.ResumeJobs(ctx); err != nil {
		return nil, err
	}
	bg, stopBG := context.WithCancel(context.Background())
	s.close = append(s.close, func() error { stopBG(); return nil })
	go dp.RefreshEvery(bg, cfg.Keys.RefreshInterval.Std())
	go dp.PurgeEvery(bg, cfg.Server.PurgeInterval.Std())
	if cfg.Store.Backend == config.BackendPostgres {
		go dp.ResumeJobsEvery(bg, core.JobLeaseTTL/2)
	}
	if s.path != "" {
		go s.watchPolicy(bg, policyPollInterval)
	}
	if err := s.serveMetrics(cfg.Metrics.Listen); err != nil {
		return nil, err
	}

	creds, err := authn.transportCredentials(cfg, strings.HasPrefix(cfg.Server.Listen, "unix://"))
	if err != nil {
		return nil, err
	}
	unary, stream := chains(log, authn)
	// Metrics outermost, so calls are counted with their final code, over
	// gRPC and through the HTTP gateway alike.
	unary = append([]grpc.UnaryServerInterceptor{s.reg.GRPC().UnaryServerInterceptor(grpcExemplar)}, unary...)
	stream = append([]grpc.StreamServerInterceptor{s.reg.GRPC().StreamServerInterceptor(grpcExemplar)}, stream...)
	s.grpc = grpc.NewServer(append(tr.serverOptions(),
		grpc.Creds(creds),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		grpc.MaxRecvMsgSize(maxMessageBytes),
		grpc.MaxSendMsgSize(maxMessageBytes),
		// Calls run on reused worker goroutines whose stacks have already
		// grown: a fresh goroutine per call spent 7% of the CPU of
		// unary tokenize growing its stack (runtime.copystack).
		grpc.NumStreamWorkers(streamWorkers),
		// Batch requests and responses are decoded and encoded by hand
		// (same bytes); every other message by protobuf-go.
		grpc.ForceServerCodecV2(batchcodec.Codec{}),
		// Fixed flow-control windows: gRPC otherwise estimates the
		// bandwidth-delay product with a ping per burst of data received,
		// which on a sidecar's loopback or Unix socket costs each batch
		// call a ping, its ack and their wake-ups (4 reads and 2 writes
		// per call in strace) and estimates nothing. 1 MiB per connection
		// bounds what one client can make the server buffer.
		grpc.InitialWindowSize(flowWindow),
		grpc.InitialConnWindowSize(flowWindow),
	)...)
	// Services register through reg so that the HTTP gateway can call
	// them in process through the same interceptors.
	reg := newInproc(s.grpc, unary, stream)
	token.RegisterService(reg, token.New(token.Config{Core: dp.DataPlane, MaxBatch: cfg.Server.MaxBatch, Logger: log}))
	auditR := trail.reader
	admin.RegisterService(reg, admin.New(admin.Config{
		Core: dp, Admins: cfg.Admins, MaxBatch: cfg.Server.MaxBatch,
		Audit: auditR,
		Keys:  signer,
	}))
	subject.RegisterService(reg, subject.New(subject.Config{Core: dp, Life: dp, Managers: append(slices.Clone(cfg.SubjectManagers), cfg.Admins...),
		Audit: auditR, Classes: classInfo(cfg)}))
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	for _, name := range healthServices {
		s.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	go s.watchHealth(bg, healthInterval)
	reflection.Register(s.grpc)
	s.reg.GRPC().InitializeMetrics(s.grpc)

	s.lis, err = Listen(cfg.Server.Listen)
	if err != nil {
		return nil, err
	}
	if o.HTTPListen != "" {
		var tc *tls.Config
		if m := cfg.Identity.MTLS; m != nil {
			if tc, err = authn.tlsConfig(m); err != nil {
				return nil, err
			}
		}
		if err := s.serveHTTP(o.HTTPListen, reg, tc); err != nil {
			return nil, err
		}
	}
	go func() { s.done <- s.grpc.Serve(s.lis) }()
	log.Info("privacyvault serving", "listen", s.lis.Addr().String(), "data_dir", cfg.Server.DataDir, "store", cfg.Store.Backend, "classes", len(specs))
	ok = true
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.lis.Addr() }

// Wait blocks until the server stops serving.
func (s *Server) Wait() error {
	err := <-s.done
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Stop drains in-flight calls, stops serving and closes the store.
func (s *Server) Stop() error {
	s.health.Shutdown()
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		s.http.Shutdown(ctx)
		cancel()
	}
	s.grpc.GracefulStop()
	return s.closeAll()
}

func (s *Server) closeAll() error {
	var errs []error
	for i := len(s.close) - 1; i >= 0; i-- {
		errs = append(errs, s.close[i]())
	}
	s.close = nil
	return errors.Join(errs...)
}

// Listen binds addr: "host:port" for TCP or "unix:///path" for a Unix
// socket (mode 0660, a stale socket file is replaced).
func Listen(addr string) (net.Listener, error) {
	path, ok := strings.CutPrefix(addr, "unix://")
	if !ok {
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
		return lis, nil
	}
	if path == "" {
		return nil, fmt.Errorf("listen %s: empty socket path", addr)
	}
	lis, err := listenUnix(path, 0o660)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return lis, nil
}

func classSpecs(cfg *config.Config) ([]core.ClassSpec, error) {
	specs := make([]core.ClassSpec, 0, len(cfg.Classes))
	for _, c := range cfg.Classes {
		mode, err := tokenizer.ParseMode(c.Mode)
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", c.Name, err)
		}
		alg, err := tokenizer.ParseAlgorithm(c.Algorithm)
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", c.Name, err)
		}
		f, err := c.ParsedFormat()
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", c.Name, err)
		}
		specs = append(specs, core.ClassSpec{
			Name:             c.Name,
			Mode:             mode,
			Binary:           c.Binary,
			Retention:        c.Retention.Std(),
			Format:           f,
			Algorithm:        alg,
			FPEKeyVersion:    c.KeyVersion,
			ShredWithSubject: c.ShredWithSubject,
		})
	}
	return specs, nil
}

func staticTokens(cfg *config.Config) map[string]identity.Identity {
	m := make(map[string]identity.Identity, len(cfg.Callers))
	for _, c := range cfg.Callers {
		m[c.Secret()] = identity.Identity(c.Identity)
	}
	return m
}
