package client

import (
	"context"
	"fmt"

	"google.golang.org/grpc/status"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// KeyStatus returns every class's key versions and record counts (admin
// identities only).
func (c *Client) KeyStatus(ctx context.Context) ([]*pb.ClassKeyStatus, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).GetKeyStatus(ctx, &pb.GetKeyStatusRequest{})
	return resp.GetClasses(), err
}

// RotateKey adds a data-key version to class and makes it current.
func (c *Client) RotateKey(ctx context.Context, class string) (*pb.ClassKeyStatus, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).RotateKey(ctx, &pb.RotateKeyRequest{Class: class})
	return resp.GetStatus(), err
}

// RewrapKeys re-wraps every stored data key under the newest KEK version
// and returns how many it re-wrapped.
func (c *Client) RewrapKeys(ctx context.Context) (uint32, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).RewrapKeys(ctx, &pb.RewrapKeysRequest{})
	return resp.GetRewrapped(), err
}

// StartReencrypt starts moving class's records to its current key version.
func (c *Client) StartReencrypt(ctx context.Context, class string) (*pb.ReencryptJob, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).StartReencrypt(ctx, &pb.StartReencryptRequest{Class: class})
	return resp.GetJob(), err
}

// Reencrypt returns the progress of class's re-encryption job.
func (c *Client) Reencrypt(ctx context.Context, class string) (*pb.ReencryptJob, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).GetReencrypt(ctx, &pb.GetReencryptRequest{Class: class})
	return resp.GetJob(), err
}

// RetireKeyVersions sets class's minimum decryption version to below.
func (c *Client) RetireKeyVersions(ctx context.Context, class string, below uint32) (*pb.ClassKeyStatus, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).RetireKeyVersions(ctx, &pb.RetireKeyVersionsRequest{Class: class, Below: below})
	return resp.GetStatus(), err
}

// RetokenizeFPE moves fpe tokens of class from one key version to
// another, sending them in batches of at most batch and calling emit for
// every old → new pair (or per-item error) in order.
func (c *Client) RetokenizeFPE(ctx context.Context, class string, from, to uint32, items []DetokenizeItem, batch int, emit func(old, new string, err error) error) error {
	stream, err := pb.NewAdminServiceClient(c.conn).RetokenizeFPE(ctx)
	if err != nil {
		return err
	}
	for start := 0; start < len(items); start += batch {
		end := min(start+batch, len(items))
		req := &pb.RetokenizeFPERequest{Class: class, FromVersion: from, ToVersion: to}
		for _, it := range items[start:end] {
			req.Items = append(req.Items, &pb.DetokenizeItem{Class: class, Token: it.Token, Context: it.Context, Tweak: it.Tweak, SubjectId: it.SubjectID})
		}
		if err := stream.Send(req); err != nil {
			_, rerr := stream.Recv()
			return rerr
		}
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		if len(resp.GetPairs()) != end-start {
			return fmt.Errorf("client: server returned %d pairs for %d tokens", len(resp.GetPairs()), end-start)
		}
		for i, p := range resp.GetPairs() {
			var itemErr error
			if p.GetError() != nil {
				itemErr = &ItemError{Index: start + i, st: status.FromProto(p.GetError())}
			}
			if err := emit(p.GetOldToken(), p.GetNewToken(), itemErr); err != nil {
				return err
			}
		}
	}
	return stream.CloseSend()
}

// VerifyAudit verifies the sidecar's audit log; a tampered log is reported
// in the response (Ok false, Kind, Line, Message), not as an error.
func (c *Client) VerifyAudit(ctx context.Context) (*pb.VerifyAuditResponse, error) {
	return pb.NewAdminServiceClient(c.conn).VerifyAudit(ctx, &pb.VerifyAuditRequest{})
}

// SubjectAccessReport lists who read subjectID's data, when and why.
func (c *Client) SubjectAccessReport(ctx context.Context, subjectID string) ([]*pb.SubjectAccess, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).GetSubjectAccessReport(ctx, &pb.GetSubjectAccessReportRequest{SubjectId: subjectID})
	return resp.GetAccesses(), err
}

// TailAudit calls line for every audit record (a JSON object) from fromSeq
// on, following new records until ctx ends or line returns an error.
func (c *Client) TailAudit(ctx context.Context, fromSeq uint64, line func(string) error) error {
	return c.TailAuditChains(ctx, fromSeq, func(_, l string) error { return line(l) })
}

// TailAuditChains is TailAudit saying which sidecar instance's chain each
// record belongs to (audit.sink postgres follows every instance's chain;
// instance is "" for a file log).
func (c *Client) TailAuditChains(ctx context.Context, fromSeq uint64, record func(instance, line string) error) error {
	stream, err := pb.NewAdminServiceClient(c.conn).TailAudit(ctx, &pb.TailAuditRequest{FromSeq: fromSeq})
	if err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		for _, l := range resp.GetLines() {
			if err := record(resp.GetInstance(), l); err != nil {
				return err
			}
		}
	}
}

// PurgeExpired deletes every record past its retention and returns counts
// by class.
func (c *Client) PurgeExpired(ctx context.Context) (map[string]uint64, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).PurgeExpired(ctx, &pb.PurgeExpiredRequest{})
	return resp.GetDeleted(), err
}
