// Package token implements privacyvault.v1.TokenService: thin handlers that
// check the batch, call core and map results.
package token

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"

	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/identity"
	"github.com/privacyvault/privacyvault/internal/batchcodec"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	"github.com/privacyvault/privacyvault/server/api"
)

var _ pb.TokenServiceServer = (*Service)(nil)

// Core is the data plane the handlers call.
type Core interface {
	// TokenizeThen tokenizes and calls then with the final results, for
	// a large call while they are being made durable (core.DataPlane).
	TokenizeThen(ctx context.Context, caller string, items []core.TokenizeItem, then func([]core.TokenResult)) ([]core.TokenResult, error)
	Detokenize(ctx context.Context, caller, purpose string, items []core.DetokenizeItem) ([]core.Revealed, error)
	Lookup(ctx context.Context, caller string, items []core.LookupItem) ([]core.TokenResult, error)
}

// Config configures New.
type Config struct {
	Core     Core
	MaxBatch int
	Logger   *slog.Logger
}

// Service is the TokenService implementation.
type Service struct {
	pb.UnimplementedTokenServiceServer
	core     Core
	maxBatch int
	log      *slog.Logger
}

// New returns the service.
func New(c Config) *Service {
	return &Service{core: c.Core, maxBatch: c.MaxBatch, log: c.Logger}
}

// RegisterService registers s with g.
func RegisterService(g grpc.ServiceRegistrar, s *Service) {
	pb.RegisterTokenServiceServer(g, s)
}

// Tokenize implements pb.TokenServiceServer.
func (s *Service) Tokenize(ctx context.Context, req *pb.TokenizeRequest) (*pb.TokenizeResponse, error) {
	caller, err := s.start(ctx, len(req.GetItems()))
	if err != nil {
		return nil, err
	}
	items := tokenizeItems.get(len(req.GetItems()))
	for i, it := range req.GetItems() {
		items[i] = core.TokenizeItem{Class: it.GetClass(), Value: it.GetValue(), Context: it.GetContext(), Tweak: it.GetTweak(), SubjectID: it.GetSubjectId(), TTL: it.GetTtl().AsDuration()}
	}
	// A large call's response is built and encoded while its audit event
	// syncs; it is returned, and so sent, only once TokenizeThen has
	// reported the event durable.
	var out *pb.TokenizeResponse
	res, err := s.core.TokenizeThen(ctx, caller, items, func(res []core.TokenResult) {
		out = s.tokenizeResponse(ctx, res)
		if len(res) >= core.OverlapItems {
			batchcodec.Prepare(out)
		}
	})
	tokenizeItems.put(items)
	if err != nil {
		return nil, err
	}
	if out == nil { // a Core that did not call then
		out = s.tokenizeResponse(ctx, res)
	}
	return out, nil
}

// tokenizeResponse maps a tokenize call's results.
func (s *Service) tokenizeResponse(ctx context.Context, res []core.TokenResult) *pb.TokenizeResponse {
	out := &pb.TokenizeResponse{Results: make([]*pb.TokenizeResult, len(res))}
	// One allocation each for all results and all tokens, not two per item.
	results := make([]pb.TokenizeResult, len(res))
	tokens := make([]pb.TokenizeResult_Token, len(res))
	for i, r := range res {
		out.Results[i] = &results[i]
		if r.Err != nil {
			results[i].Result = &pb.TokenizeResult_Error{Error: s.itemStatus(ctx, r.Err, i)}
			continue
		}
		tokens[i].Token = r.Token
		results[i].Result = &tokens[i]
	}
	return out
}

// Detokenize implements pb.TokenServiceServer.
func (s *Service) Detokenize(ctx context.Context, req *pb.DetokenizeRequest) (*pb.DetokenizeResponse, error) {
	caller, err := s.start(ctx, len(req.GetItems()))
	if err != nil {
		return nil, err
	}
	items := detokenizeItems.get(len(req.GetItems()))
	for i, it := range req.GetItems() {
		items[i] = core.DetokenizeItem{Class: it.GetClass(), Token: it.GetToken(), Context: it.GetContext(), Tweak: it.GetTweak(), SubjectID: it.GetSubjectId()}
	}
	res, err := s.core.Detokenize(ctx, caller, req.GetPurpose(), items)
	detokenizeItems.put(items)
	if err != nil {
		return nil, err
	}
	out := &pb.DetokenizeResponse{Results: make([]*pb.DetokenizeResult, len(res))}
	// One allocation each for all results and all values, not two per item.
	results := make([]pb.DetokenizeResult, len(res))
	revealed := make([]pb.Revealed, len(res))
	for i, r := range res {
		out.Results[i] = &results[i]
		if r.Err != nil {
			results[i].Error = s.itemStatus(ctx, r.Err, i)
			continue
		}
		revealed[i].Value, revealed[i].Level = r.Value, api.RevealLevel(r.Level)
		results[i].Revealed = &revealed[i]
	}
	return out, nil
}

// Lookup implements pb.TokenServiceServer.
func (s *Service) Lookup(ctx context.Context, req *pb.LookupRequest) (*pb.LookupResponse, error) {
	caller, err := s.start(ctx, len(req.GetItems()))
	if err != nil {
		return nil, err
	}
	items := make([]core.LookupItem, len(req.GetItems()))
	for i, it := range req.GetItems() {
		items[i] = core.LookupItem{Class: it.GetClass(), Value: it.GetValue(), SubjectID: it.GetSubjectId()}
	}
	res, err := s.core.Lookup(ctx, caller, items)
	if err != nil {
		return nil, err
	}
	out := &pb.LookupResponse{Results: make([]*pb.LookupResult, len(res))}
	for i, r := range res {
		if r.Err != nil {
			out.Results[i] = &pb.LookupResult{Result: &pb.LookupResult_Error{Error: s.itemStatus(ctx, r.Err, i)}}
			continue
		}
		out.Results[i] = &pb.LookupResult{Result: &pb.LookupResult_Token{Token: r.Token}}
	}
	return out, nil
}

// The core items of a call are recycled: core keeps nothing of them once
// Tokenize or Detokenize returns, and a batch of 1,000 otherwise allocated
// and zeroed a slice of about 100 KB per call for the collector.
var (
	tokenizeItems   slicePool[core.TokenizeItem]
	detokenizeItems slicePool[core.DetokenizeItem]
)

// slicePool hands out slices of T for one call each.
type slicePool[T any] struct{ p sync.Pool }

// get returns a slice of n zero values.
func (sp *slicePool[T]) get(n int) []T {
	if v, ok := sp.p.Get().(*[]T); ok && cap(*v) >= n {
		return (*v)[:n]
	}
	return make([]T, n)
}

// put takes back a slice from get, cleared so that it holds no values of
// the call.
func (sp *slicePool[T]) put(s []T) {
	clear(s)
	sp.p.Put(&s)
}

// start checks the batch size and returns the authenticated caller.
func (s *Service) start(ctx context.Context, n int) (string, error) {
	if n > s.maxBatch {
		return "", &api.BatchTooLargeError{Items: n, Limit: s.maxBatch}
	}
	caller, ok := identity.FromContext(ctx)
	if !ok {
		return "", identity.ErrUnauthenticated
	}
	return string(caller), nil
}

// itemStatus maps one item's error. Core returns only caller-facing errors
// per item, so an internal one here is a bug worth a log line.
func (s *Service) itemStatus(ctx context.Context, err error, i int) *spb.Status {
	st, internal := api.Status(err, fmt.Sprintf("items[%d]", i))
	if internal {
		s.log.ErrorContext(ctx, "item failed with an internal error", "item", i, "error", err)
	}
	return st.Proto()
}
