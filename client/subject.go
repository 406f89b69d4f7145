package client

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// SetConsent records subjectID's consent to purpose under a GDPR Art. 6(1)
// lawful basis; a zero expires means it does not expire.
func (c *Client) SetConsent(ctx context.Context, subjectID, purpose, basis string, expires time.Time) (*pb.ConsentRecord, error) {
	req := &pb.SetConsentRequest{SubjectId: subjectID, Purpose: purpose, LawfulBasis: basis}
	if !expires.IsZero() {
		req.ExpiresAt = timestamppb.New(expires)
	}
	resp, err := pb.NewSubjectServiceClient(c.conn).SetConsent(ctx, req)
	return resp.GetConsent(), err
}

// RevokeConsent revokes subjectID's consent to purpose at once.
func (c *Client) RevokeConsent(ctx context.Context, subjectID, purpose string) (*pb.ConsentRecord, error) {
	resp, err := pb.NewSubjectServiceClient(c.conn).RevokeConsent(ctx, &pb.RevokeConsentRequest{SubjectId: subjectID, Purpose: purpose})
	return resp.GetConsent(), err
}

// ListConsents lists subjectID's consent records.
func (c *Client) ListConsents(ctx context.Context, subjectID string) ([]*pb.ConsentRecord, error) {
	resp, err := pb.NewSubjectServiceClient(c.conn).ListConsents(ctx, &pb.ListConsentsRequest{SubjectId: subjectID})
	return resp.GetConsents(), err
}

// ExportSubject returns every stored token of subjectID with its value at
// the level the caller's dsar grant allows.
func (c *Client) ExportSubject(ctx context.Context, subjectID string) ([]*pb.SubjectToken, error) {
	stream, err := pb.NewSubjectServiceClient(c.conn).ExportSubject(ctx, &pb.ExportSubjectRequest{SubjectId: subjectID})
	if err != nil {
		return nil, err
	}
	var out []*pb.SubjectToken
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, resp.GetTokens()...)
	}
}

// RectifyToken replaces the value behind a vaulted token, keeping the token.
func (c *Client) RectifyToken(ctx context.Context, class, token string, value []byte) error {
	_, err := pb.NewSubjectServiceClient(c.conn).RectifyToken(ctx, &pb.RectifyTokenRequest{Class: class, Token: token, Value: value})
	return err
}

// EraseSubject crypto-shreds subjectID and returns the signed receipt.
func (c *Client) EraseSubject(ctx context.Context, subjectID string) (*pb.ErasureReceipt, error) {
	resp, err := pb.NewSubjectServiceClient(c.conn).EraseSubject(ctx, &pb.EraseSubjectRequest{SubjectId: subjectID})
	return resp.GetReceipt(), err
}
