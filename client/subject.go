package client

import (
	"context"
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
