package token_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/identity"
	"github.com/privacyvault/privacyvault/policy"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	"github.com/privacyvault/privacyvault/server/api"
	token "github.com/privacyvault/privacyvault/server/api/token/v1"
)

// fakeCore records what the handler asks and answers what the test set.
type fakeCore struct {
	caller, purpose string
	tokenize        []core.TokenizeItem
	detokenize      []core.DetokenizeItem
	lookup          []core.LookupItem
	tokens          []core.TokenResult
	revealed        []core.Revealed
	err             error
	noThen          bool // TokenizeThen does not call then
}

func (f *fakeCore) TokenizeThen(_ context.Context, caller string, items []core.TokenizeItem, then func([]core.TokenResult)) ([]core.TokenResult, error) {
	f.caller, f.tokenize = caller, slices.Clone(items) // the handler reuses items after the call
	then(f.tokens)                                     // as core does when the event is being synced: even for a call that then fails
	return f.tokens, f.err
}

func (f *fakeCore) Detokenize(_ context.Context, caller, purpose string, items []core.DetokenizeItem) ([]core.Revealed, error) {
	f.caller, f.purpose, f.detokenize = caller, purpose, slices.Clone(items)
	return f.revealed, f.err
}

func (f *fakeCore) Lookup(_ context.Context, caller string, items []core.LookupItem) ([]core.TokenResult, error) {
	f.caller, f.lookup = caller, items
	return f.tokens, f.err
}

func newService(f *fakeCore) *token.Service {
	return token.New(token.Config{Core: f, MaxBatch: 3, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func as(id string) context.Context {
	return identity.NewContext(context.Background(), identity.Identity(id))
}

func TestTokenizeMapsItemsAndResults(t *testing.T) {
	f := &fakeCore{tokens: []core.TokenResult{{Token: "pvt_a"}, {Err: core.Invalid("value", "must not be empty")}}}
	res, err := newService(f).Tokenize(as("checkout"), &pb.TokenizeRequest{Items: []*pb.TokenizeItem{
		{Class: "email", Value: []byte("a@b.example"), Context: "ctx", SubjectId: "cust-1", Ttl: durationpb.New(time.Hour)},
		{Class: "email"},
	}})
	if err != nil {
		t.Fatalf("Tokenize = %v", err)
	}
	want := core.TokenizeItem{Class: "email", Value: []byte("a@b.example"), Context: "ctx", SubjectID: "cust-1", TTL: time.Hour}
	if f.caller != "checkout" || len(f.tokenize) != 2 || f.tokenize[0].Class != want.Class || string(f.tokenize[0].Value) != string(want.Value) ||
		f.tokenize[0].Context != want.Context || f.tokenize[0].SubjectID != want.SubjectID || f.tokenize[0].TTL != want.TTL {
		t.Errorf("core got caller %q, items %+v; want checkout, [%+v, ...]", f.caller, f.tokenize, want)
	}
	if got := res.GetResults()[0].GetToken(); got != "pvt_a" {
		t.Errorf("results[0] token = %q, want pvt_a", got)
	}
	st := res.GetResults()[1].GetError()
	if codes.Code(st.GetCode()) != codes.InvalidArgument || st.GetMessage() != "items[1].value: must not be empty" {
		t.Errorf("results[1] error = %v %q, want InvalidArgument %q", codes.Code(st.GetCode()), st.GetMessage(), "items[1].value: must not be empty")
	}
}

// TestTokenizeWithoutThen: the handler maps the results itself when its
// Core returned them without calling then.
func TestTokenizeWithoutThen(t *testing.T) {
	f := &fakeCore{tokens: []core.TokenResult{{Token: "pvt_a"}}, noThen: true}
	res, err := newService(f).Tokenize(as("checkout"), &pb.TokenizeRequest{Items: []*pb.TokenizeItem{{Class: "email", Value: []byte("a@b.example")}}})
	if err != nil || res.GetResults()[0].GetToken() != "pvt_a" {
		t.Errorf("Tokenize = %v, %v; want the token pvt_a", res, err)
	}
}

func TestDetokenizeMapsLevelsAndItemErrors(t *testing.T) {
	f := &fakeCore{revealed: []core.Revealed{
		{Value: []byte("4111"), Level: policy.Masked},
		{Err: core.ErrNotFound},
		{Err: core.ErrNoConsent},
	}}
	res, err := newService(f).Detokenize(as("support"), &pb.DetokenizeRequest{Purpose: "support", Items: []*pb.DetokenizeItem{
		{Class: "card", Token: "t1"}, {Class: "card", Token: "t2"}, {Class: "card", Token: "t3", SubjectId: "cust-1"},
	}})
	if err != nil {
		t.Fatalf("Detokenize = %v", err)
	}
	if f.purpose != "support" || f.detokenize[2].SubjectID != "cust-1" || f.detokenize[1].Token != "t2" {
		t.Errorf("core got purpose %q, items %+v", f.purpose, f.detokenize)
	}
	r := res.GetResults()
	if string(r[0].GetRevealed().GetValue()) != "4111" || r[0].GetRevealed().GetLevel() != pb.RevealLevel_REVEAL_LEVEL_MASKED {
		t.Errorf("results[0] = %v, want 4111 masked", r[0])
	}
	tests := []struct {
		i    int
		code codes.Code
	}{{1, codes.NotFound}, {2, codes.PermissionDenied}}
	for _, tt := range tests {
		if got := codes.Code(r[tt.i].GetError().GetCode()); got != tt.code || r[tt.i].GetRevealed() != nil {
			t.Errorf("results[%d] = %v, revealed %v; want %v and nothing revealed", tt.i, got, r[tt.i].GetRevealed(), tt.code)
		}
	}
}

func TestLookupMapsResults(t *testing.T) {
	f := &fakeCore{tokens: []core.TokenResult{{Token: "pvt_d"}, {Err: core.ErrNotFound}}}
	res, err := newService(f).Lookup(as("crm"), &pb.LookupRequest{Items: []*pb.LookupItem{
		{Class: "email", Value: []byte("a@b.example"), SubjectId: "cust-1"}, {Class: "email", Value: []byte("c@d.example")},
	}})
	if err != nil {
		t.Fatalf("Lookup = %v", err)
	}
	if f.lookup[0].SubjectID != "cust-1" || string(f.lookup[1].Value) != "c@d.example" {
		t.Errorf("core got items %+v", f.lookup)
	}
	if res.GetResults()[0].GetToken() != "pvt_d" || codes.Code(res.GetResults()[1].GetError().GetCode()) != codes.NotFound {
		t.Errorf("results = %v, want pvt_d and NotFound", res.GetResults())
	}
}

// TestRequestErrors: the whole call fails, with the domain error the
// interceptor maps, and core is not asked when the request is refused.
func TestRequestErrors(t *testing.T) {
	items := func(n int) []*pb.TokenizeItem {
		out := make([]*pb.TokenizeItem, n)
		for i := range out {
			out[i] = &pb.TokenizeItem{Class: "email", Value: []byte("x")}
		}
		return out
	}
	var tooLarge *api.BatchTooLargeError
	tests := []struct {
		name      string
		ctx       context.Context
		n         int
		coreErr   error
		want      func(error) bool
		coreAsked bool
	}{
		{"no identity", context.Background(), 1, nil, func(err error) bool { return errors.Is(err, identity.ErrUnauthenticated) }, false},
		{"batch too large", as("checkout"), 4, nil, func(err error) bool { return errors.As(err, &tooLarge) }, false},
		{"audit failed", as("checkout"), 1, core.ErrAuditFailed, func(err error) bool { return errors.Is(err, core.ErrAuditFailed) }, true},
		{"keys stale", as("checkout"), 1, core.ErrKeysStale, func(err error) bool { return errors.Is(err, core.ErrKeysStale) }, true},
	}
	for _, tt := range tests {
		f := &fakeCore{err: tt.coreErr}
		res, err := newService(f).Tokenize(tt.ctx, &pb.TokenizeRequest{Items: items(tt.n)})
		if res != nil || !tt.want(err) || (f.tokenize != nil) != tt.coreAsked {
			t.Errorf("%s: Tokenize = %v, %v (core asked: %v); want no response, the matching error, core asked %v", tt.name, res, err, f.tokenize != nil, tt.coreAsked)
		}
	}
}
