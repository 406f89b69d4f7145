package admin

import (
	"context"

	"github.com/privacyvault/privacyvault/audit"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// ExportAuditKeys implements pb.AdminServiceServer.
func (s *Service) ExportAuditKeys(ctx context.Context, _ *pb.ExportAuditKeysRequest) (*pb.ExportAuditKeysResponse, error) {
	return audited(ctx, s, "audit_export_keys", "", func() (*pb.ExportAuditKeysResponse, error) {
		keys, err := s.keys.PublicKeys(ctx)
		if err != nil {
			return nil, err
		}
		b, ids, err := audit.EncodeVerificationKeys(keys)
		if err != nil {
			return nil, err
		}
		return &pb.ExportAuditKeysResponse{Pem: b, KeyIds: ids}, nil
	})
}
