package client

import (
	"context"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// ExportAuditKeys returns the PEM public keys that verify the sidecar's
// audit checkpoints and erasure receipts offline, and their key ids
// (admin identities only).
func (c *Client) ExportAuditKeys(ctx context.Context) ([]byte, []string, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).ExportAuditKeys(ctx, &pb.ExportAuditKeysRequest{})
	return resp.GetPem(), resp.GetKeyIds(), err
}
