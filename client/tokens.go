package client

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/internal/batchcodec"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// batchCodec encodes and decodes batches by hand (internal/batchcodec):
// protobuf-go's generic coder cost more per item than the server's
// crypto. The bytes on the wire are protobuf's.
var batchCodec = grpc.ForceCodecV2(batchcodec.Codec{})

// ItemError is the error of one item of a batch. It carries the gRPC
// status, so status.Code(err) and status.FromError(err) work on it.
type ItemError struct {
	// Index is the item's position in the batch.
	Index int
	st    *status.Status
}

func (e *ItemError) Error() string {
	return fmt.Sprintf("item %d: %s: %s", e.Index, e.st.Code(), e.st.Message())
}

// GRPCStatus returns the item's status.
func (e *ItemError) GRPCStatus() *status.Status { return e.st }

// TokenizeItem is one value to tokenize.
type TokenizeItem struct {
	Class string
	Value []byte
	// Context is mixed into the tweak of fpe and hash classes: the same
	// value in two contexts gets two tokens. Detokenize needs it again.
	Context string
	// Tweak is the 7-byte FF3-1 tweak of ff3-1 classes.
	Tweak []byte
	// SubjectID names the data subject the value belongs to (optional):
	// it links the token to the subject's consents, access reports and
	// erasure. Lookup needs it again for subject-linked values.
	SubjectID string
	// TTL shortens the class retention for this token (0 keeps it).
	TTL time.Duration
}

// TokenResult is the token for one item, or its error.
type TokenResult struct {
	Token string
	Err   error
}

// TokenizeBatch tokenizes items. The error is for the call as a whole;
// per-item errors are in the results. Batches over the batch limit are
// sent in parts (see WithMaxBatch).
func (c *Client) TokenizeBatch(ctx context.Context, items []TokenizeItem) ([]TokenResult, error) {
	return inBatches(ctx, c, items, c.tokenize, failToken)
}

func failToken(r *TokenResult, err error) { r.Err = err }

func (c *Client) tokenize(ctx context.Context, items []TokenizeItem, offset int) ([]TokenResult, error) {
	if c.direct {
		if call, ok := newTokenizeCall(items); ok {
			return c.tokenizeWire(ctx, call, offset)
		}
	}
	req := &pb.TokenizeRequest{Items: make([]*pb.TokenizeItem, len(items))}
	slab := make([]pb.TokenizeItem, len(items)) // one allocation for all items
	for i, it := range items {
		req.Items[i] = &slab[i]
		setTokenizeItem(&slab[i], it)
	}
	resp, err := c.tokens.Tokenize(ctx, req, batchCodec)
	if err != nil {
		return nil, err
	}
	return tokenResults(resp.GetResults(), len(items), offset)
}

func setTokenizeItem(dst *pb.TokenizeItem, it TokenizeItem) {
	dst.Class, dst.Value, dst.Context, dst.Tweak, dst.SubjectId = it.Class, it.Value, it.Context, it.Tweak, it.SubjectID
	if it.TTL > 0 {
		dst.Ttl = durationpb.New(it.TTL)
	}
}

// oneTokenize is the request of a single-value Tokenize in one
// allocation: the request, its item list and its item.
type oneTokenize struct {
	req  pb.TokenizeRequest
	ptrs [1]*pb.TokenizeItem
	item pb.TokenizeItem
}

// tokenResult is a per-item result holding a token or an error:
// TokenizeResult and LookupResult.
type tokenResult interface {
	GetToken() string
	GetError() *spb.Status
}

func tokenResults[R tokenResult](results []R, n, offset int) ([]TokenResult, error) {
	if len(results) != n {
		return nil, fmt.Errorf("client: server returned %d results for %d items", len(results), n)
	}
	out := make([]TokenResult, n)
	for i, r := range results {
		if e := r.GetError(); e != nil {
			out[i].Err = &ItemError{Index: offset + i, st: status.FromProto(e)}
			continue
		}
		out[i].Token = r.GetToken()
	}
	return out, nil
}

// Tokenize tokenizes one value of class. Options set the item's subject,
// context, tweak and TTL.
//
// It is TokenizeBatch of one item without the batch's slices: one item
// is never split, so the call, its errors and its item error are the same.
func (c *Client) Tokenize(ctx context.Context, class string, value []byte, opts ...ItemOption) (string, error) {
	o := itemOptions(opts)
	one := new(oneTokenize)
	setTokenizeItem(&one.item, TokenizeItem{Class: class, Value: value, SubjectID: o.subject, Context: o.context, Tweak: o.tweak, TTL: o.ttl})
	one.ptrs[0] = &one.item
	one.req.Items = one.ptrs[:]
	resp, err := c.tokens.Tokenize(ctx, &one.req, batchCodec)
	if err != nil {
		return "", err
	}
	results := resp.GetResults()
	if len(results) != 1 {
		return "", fmt.Errorf("client: server returned %d results for one item", len(results))
	}
	if e := results[0].GetError(); e != nil {
		return "", &ItemError{Index: 0, st: status.FromProto(e)}
	}
	return results[0].GetToken(), nil
}

// DetokenizeItem is one token to resolve.
type DetokenizeItem struct {
	Class string
	Token string
	// Context and Tweak are those given at tokenize time (fpe classes).
	Context string
	Tweak   []byte
	// SubjectID names the subject of an fpe token, for purposes that
	// require consent (vaulted tokens carry their subject).
	SubjectID string
}

// Level is how much of a value was revealed.
type Level = pb.RevealLevel

// Reveal levels.
const (
	Plain    = pb.RevealLevel_REVEAL_LEVEL_PLAIN
	Masked   = pb.RevealLevel_REVEAL_LEVEL_MASKED
	Redacted = pb.RevealLevel_REVEAL_LEVEL_REDACTED
)

// Revealed is the value behind one token at the level policy allowed, or
// the item's error.
type Revealed struct {
	Value []byte
	Level Level
	Err   error
}

// DetokenizeBatch resolves items for purpose. Batches over the batch
// limit are sent in parts (see WithMaxBatch).
func (c *Client) DetokenizeBatch(ctx context.Context, purpose string, items []DetokenizeItem) ([]Revealed, error) {
	return inBatches(ctx, c, items, func(ctx context.Context, part []DetokenizeItem, offset int) ([]Revealed, error) {
		return c.detokenize(ctx, purpose, part, offset)
	}, func(r *Revealed, err error) { r.Err = err })
}

func (c *Client) detokenize(ctx context.Context, purpose string, items []DetokenizeItem, offset int) ([]Revealed, error) {
	if c.direct {
		if call, ok := newDetokenizeCall(purpose, items); ok {
			return c.detokenizeWire(ctx, call, offset)
		}
	}
	req := &pb.DetokenizeRequest{Purpose: purpose, Items: make([]*pb.DetokenizeItem, len(items))}
	slab := make([]pb.DetokenizeItem, len(items)) // one allocation for all items
	for i, it := range items {
		req.Items[i] = &slab[i]
		setDetokenizeItem(&slab[i], it)
	}
	resp, err := c.tokens.Detokenize(ctx, req, batchCodec)
	if err != nil {
		return nil, err
	}
	if len(resp.GetResults()) != len(items) {
		return nil, fmt.Errorf("client: server returned %d results for %d items", len(resp.GetResults()), len(items))
	}
	out := make([]Revealed, len(items))
	for i, r := range resp.GetResults() {
		out[i] = revealed(r, offset+i)
	}
	return out, nil
}

func setDetokenizeItem(dst *pb.DetokenizeItem, it DetokenizeItem) {
	dst.Class, dst.Token, dst.Context, dst.Tweak, dst.SubjectId = it.Class, it.Token, it.Context, it.Tweak, it.SubjectID
}

// revealed converts the result of the item at index.
func revealed(r *pb.DetokenizeResult, index int) Revealed {
	if e := r.GetError(); e != nil {
		return Revealed{Err: &ItemError{Index: index, st: status.FromProto(e)}}
	}
	return Revealed{Value: r.GetRevealed().GetValue(), Level: r.GetRevealed().GetLevel()}
}

// oneDetokenize is the request of a single-value Detokenize in one
// allocation, as oneTokenize.
type oneDetokenize struct {
	req  pb.DetokenizeRequest
	ptrs [1]*pb.DetokenizeItem
	item pb.DetokenizeItem
}

// Detokenize resolves one token of class for purpose. Options give the
// context, tweak and subject used at tokenize time (fpe classes); TTL is
// ignored.
//
// It is DetokenizeBatch of one item without the batch's slices, as
// Tokenize.
func (c *Client) Detokenize(ctx context.Context, purpose, class, token string, opts ...ItemOption) (Revealed, error) {
	o := itemOptions(opts)
	one := new(oneDetokenize)
	setDetokenizeItem(&one.item, DetokenizeItem{Class: class, Token: token, Context: o.context, Tweak: o.tweak, SubjectID: o.subject})
	one.ptrs[0] = &one.item
	one.req.Purpose, one.req.Items = purpose, one.ptrs[:]
	resp, err := c.tokens.Detokenize(ctx, &one.req, batchCodec)
	if err != nil {
		return Revealed{}, err
	}
	results := resp.GetResults()
	if len(results) != 1 {
		return Revealed{}, fmt.Errorf("client: server returned %d results for one item", len(results))
	}
	r := revealed(results[0], 0)
	return r, r.Err
}

// LookupBatch returns the existing tokens of values in deterministic
// classes; an item never tokenized has a NotFound error. Batches over the
// batch limit are sent in parts (see WithMaxBatch).
func (c *Client) LookupBatch(ctx context.Context, items []TokenizeItem) ([]TokenResult, error) {
	return inBatches(ctx, c, items, c.lookup, failToken)
}

func (c *Client) lookup(ctx context.Context, items []TokenizeItem, offset int) ([]TokenResult, error) {
	req := &pb.LookupRequest{Items: make([]*pb.LookupItem, len(items))}
	for i, it := range items {
		req.Items[i] = &pb.LookupItem{Class: it.Class, Value: it.Value, SubjectId: it.SubjectID}
	}
	resp, err := c.tokens.Lookup(ctx, req)
	if err != nil {
		return nil, err
	}
	return tokenResults(resp.GetResults(), len(items), offset)
}

// Lookup returns the existing token of one value. WithSubject names the
// subject given at tokenize time; other options are ignored.
func (c *Client) Lookup(ctx context.Context, class string, value []byte, opts ...ItemOption) (string, error) {
	o := itemOptions(opts)
	res, err := c.LookupBatch(ctx, []TokenizeItem{{Class: class, Value: value, SubjectID: o.subject}})
	if err != nil {
		return "", err
	}
	return res[0].Token, res[0].Err
}
