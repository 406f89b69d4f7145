package client

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// SubjectExport is a subject's whole export: tokens with values, consent
// records and the access history from the audit log.
type SubjectExport struct {
	Tokens   []*pb.SubjectToken
	Consents []*pb.ConsentRecord
	Accesses []*pb.SubjectAccess
}

// ExportSubjectAll returns subjectID's export with its consents and
// access history (ExportSubject returns the tokens only).
func (c *Client) ExportSubjectAll(ctx context.Context, subjectID string) (SubjectExport, error) {
	stream, err := pb.NewSubjectServiceClient(c.conn).ExportSubject(ctx, &pb.ExportSubjectRequest{SubjectId: subjectID})
	if err != nil {
		return SubjectExport{}, err
	}
	var out SubjectExport
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return SubjectExport{}, err
		}
		out.Tokens = append(out.Tokens, resp.GetTokens()...)
		out.Consents = append(out.Consents, resp.GetConsents()...)
		out.Accesses = append(out.Accesses, resp.GetAccesses()...)
	}
}

// DeleteToken erases the vaulted value behind one token and returns the
// signed receipt.
func (c *Client) DeleteToken(ctx context.Context, class, token string) (*pb.ErasureReceipt, error) {
	resp, err := pb.NewSubjectServiceClient(c.conn).DeleteToken(ctx, &pb.DeleteTokenRequest{Class: class, Token: token})
	return resp.GetReceipt(), err
}

// ExplainPolicy asks the running sidecar what its policy decides for
// identity, purpose and class, and why.
func (c *Client) ExplainPolicy(ctx context.Context, identity, purpose, class string) (*pb.ExplainPolicyResponse, error) {
	return pb.NewAdminServiceClient(c.conn).ExplainPolicy(ctx, &pb.ExplainPolicyRequest{Identity: identity, Purpose: purpose, Class: class})
}

// AccessReport summarises what identity revealed in [since, until); a
// zero until means now. Rows of subjects among subjectIDs name the id.
func (c *Client) AccessReport(ctx context.Context, identity string, since, until time.Time, subjectIDs ...string) (*pb.GetAccessReportResponse, error) {
	req := &pb.GetAccessReportRequest{Identity: identity, Since: timestamppb.New(since), SubjectIds: subjectIDs}
	if !until.IsZero() {
		req.Until = timestamppb.New(until)
	}
	return pb.NewAdminServiceClient(c.conn).GetAccessReport(ctx, req)
}
