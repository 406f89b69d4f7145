package subject

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privacyvault/privacyvault/audit"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// ClassInfo is what an export says about a class.
type ClassInfo struct {
	Description string
	Binary      bool
}

// AccessLog reads a subject's access history from the audit log.
type AccessLog interface {
	SubjectReport(ctx context.Context, subjectID string) ([]audit.Access, error)
}

// DeleteToken implements pb.SubjectServiceServer.
func (s *Service) DeleteToken(ctx context.Context, req *pb.DeleteTokenRequest) (*pb.DeleteTokenResponse, error) {
	caller, err := s.caller(ctx, audit.OpDeleteToken, req.GetClass(), "")
	if err != nil {
		return nil, err
	}
	r, err := s.life.DeleteToken(ctx, caller, req.GetClass(), req.GetToken())
	if err != nil {
		return nil, err
	}
	return &pb.DeleteTokenResponse{Receipt: receipt(r)}, nil
}

func receipt(r audit.Receipt) *pb.ErasureReceipt {
	kind := r.Kind
	if kind == "" {
		kind = audit.ReceiptSubject
	}
	return &pb.ErasureReceipt{
		SubjectFp: r.Subject, ErasedAt: timestamppb.New(r.ErasedAt), Records: uint32(r.Records),
		SubjectKeys: uint32(r.Keys), Consents: uint32(r.Consents), KeyId: r.KeyID, Signature: r.Signature,
		Kind: kind, Class: r.Class, TokenFp: r.TokenFP, Remains: r.Remains,
	}
}

// exportExtras is the first export message's consents and access history.
func (s *Service) exportExtras(ctx context.Context, caller, subjectID string) (*pb.ExportSubjectResponse, error) {
	msg := &pb.ExportSubjectResponse{}
	cs, err := s.core.ListConsents(ctx, caller, subjectID)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		msg.Consents = append(msg.Consents, record(c))
	}
	if s.audit == nil {
		return msg, nil
	}
	acc, err := s.audit.SubjectReport(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	for _, a := range acc {
		msg.Accesses = append(msg.Accesses, &pb.SubjectAccess{
			Seq: a.Seq, Time: timestamppb.New(a.Time), Caller: a.Caller, Purpose: a.Purpose,
			Op: string(a.Op), Class: a.Class, Count: int64(a.Count), Decision: string(a.Decision),
		})
	}
	return msg, nil
}
