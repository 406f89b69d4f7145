// Package subject implements privacyvault.v1.SubjectService: consents,
// access export, rectification and erasure, for subject managers and
// admins only.
package subject

import (
	"context"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/identity"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	"github.com/privacyvault/privacyvault/server/api"
)

var _ pb.SubjectServiceServer = (*Service)(nil)

// Core is the part of the data plane subject calls use.
type Core interface {
	SetConsent(ctx context.Context, caller, subjectID, purpose, basis string, expires time.Time) (core.Consent, error)
	RevokeConsent(ctx context.Context, caller, subjectID, purpose string) (core.Consent, error)
	ListConsents(ctx context.Context, caller, subjectID string) ([]core.Consent, error)
	RecordRefused(ctx context.Context, caller string, op audit.Op, class, subjectID string, denied error) error
}

// Config configures New.
type Config struct {
	Core Core
	Life Lifecycle
	// Managers are the identities allowed to call the service.
	Managers []string
	// Audit, if set, adds the access history to exports.
	Audit AccessLog
	// Classes describe the classes in exports.
	Classes map[string]ClassInfo
}

// Service is the SubjectService implementation.
type Service struct {
	pb.UnimplementedSubjectServiceServer
	core     Core
	life     Lifecycle
	managers []string
	audit    AccessLog
	classes  map[string]ClassInfo
}

// New returns the service.
func New(c Config) *Service {
	return &Service{core: c.Core, life: c.Life, managers: c.Managers, audit: c.Audit, classes: c.Classes}
}

// RegisterService registers s with g.
func RegisterService(g grpc.ServiceRegistrar, s *Service) { pb.RegisterSubjectServiceServer(g, s) }

// caller returns the caller if it may manage data subjects. A refusal is
// audited (naming the subject, so the subject's access report shows the
// attempt) and counts towards the caller's denied-burst alert.
func (s *Service) caller(ctx context.Context, op audit.Op, class, subjectID string) (string, error) {
	id, ok := identity.FromContext(ctx)
	if !ok {
		return "", identity.ErrUnauthenticated
	}
	if !slices.Contains(s.managers, string(id)) {
		return "", s.core.RecordRefused(ctx, string(id), op, class, subjectID, core.ErrNotSubjectManager)
	}
	return string(id), nil
}

// SetConsent implements pb.SubjectServiceServer.
func (s *Service) SetConsent(ctx context.Context, req *pb.SetConsentRequest) (*pb.SetConsentResponse, error) {
	caller, err := s.caller(ctx, audit.OpConsentSet, "", req.GetSubjectId())
	if err != nil {
		return nil, err
	}
	var expires time.Time
	if req.GetExpiresAt() != nil {
		expires = req.GetExpiresAt().AsTime()
	}
	c, err := s.core.SetConsent(ctx, caller, req.GetSubjectId(), req.GetPurpose(), req.GetLawfulBasis(), expires)
	if err != nil {
		return nil, err
	}
	return &pb.SetConsentResponse{Consent: record(c)}, nil
}

// RevokeConsent implements pb.SubjectServiceServer.
func (s *Service) RevokeConsent(ctx context.Context, req *pb.RevokeConsentRequest) (*pb.RevokeConsentResponse, error) {
	caller, err := s.caller(ctx, audit.OpConsentRevoke, "", req.GetSubjectId())
	if err != nil {
		return nil, err
	}
	c, err := s.core.RevokeConsent(ctx, caller, req.GetSubjectId(), req.GetPurpose())
	if err != nil {
		return nil, err
	}
	return &pb.RevokeConsentResponse{Consent: record(c)}, nil
}

// ListConsents implements pb.SubjectServiceServer.
func (s *Service) ListConsents(ctx context.Context, req *pb.ListConsentsRequest) (*pb.ListConsentsResponse, error) {
	caller, err := s.caller(ctx, audit.OpConsentList, "", req.GetSubjectId())
	if err != nil {
		return nil, err
	}
	cs, err := s.core.ListConsents(ctx, caller, req.GetSubjectId())
	if err != nil {
		return nil, err
	}
	out := &pb.ListConsentsResponse{}
	for _, c := range cs {
		out.Consents = append(out.Consents, record(c))
	}
	return out, nil
}

func record(c core.Consent) *pb.ConsentRecord {
	return &pb.ConsentRecord{
		SubjectId:   c.SubjectID,
		Purpose:     c.Purpose,
		LawfulBasis: c.LawfulBasis,
		GrantedAt:   stamp(c.GrantedAt),
		ExpiresAt:   stamp(c.ExpiresAt),
		RevokedAt:   stamp(c.RevokedAt),
		Live:        c.Live,
	}
}

func stamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// Lifecycle is the part of the data plane data-subject requests use.
type Lifecycle interface {
	ExportSubject(ctx context.Context, caller, subjectID string) ([]core.SubjectItem, error)
	RectifyToken(ctx context.Context, caller, class, token string, value []byte) error
	EraseSubject(ctx context.Context, caller, subjectID string) (audit.Receipt, error)
	DeleteToken(ctx context.Context, caller, class, token string) (audit.Receipt, error)
}

// exportBatch is how many tokens one ExportSubject message carries.
const exportBatch = 500

// ExportSubject implements pb.SubjectServiceServer.
func (s *Service) ExportSubject(req *pb.ExportSubjectRequest, stream pb.SubjectService_ExportSubjectServer) error {
	caller, err := s.caller(stream.Context(), audit.OpExport, "", req.GetSubjectId())
	if err != nil {
		return err
	}
	items, err := s.life.ExportSubject(stream.Context(), caller, req.GetSubjectId())
	if err != nil {
		return err
	}
	first, err := s.exportExtras(stream.Context(), caller, req.GetSubjectId())
	if err != nil {
		return err
	}
	for start := 0; ; start += exportBatch {
		end := min(start+exportBatch, len(items))
		msg := &pb.ExportSubjectResponse{}
		if start == 0 {
			msg = first
		}
		for _, it := range items[start:end] {
			info := s.classes[it.Class]
			msg.Tokens = append(msg.Tokens, &pb.SubjectToken{
				Class: it.Class, Token: it.Token, Value: it.Value, Level: api.RevealLevel(it.Level),
				CreatedAt: stamp(it.CreatedAt), ExpiresAt: stamp(it.ExpiresAt),
				ClassDescription: info.Description, Binary: info.Binary,
			})
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
		if end == len(items) {
			return nil
		}
	}
}

// RectifyToken implements pb.SubjectServiceServer.
func (s *Service) RectifyToken(ctx context.Context, req *pb.RectifyTokenRequest) (*pb.RectifyTokenResponse, error) {
	caller, err := s.caller(ctx, audit.OpRectify, req.GetClass(), "")
	if err != nil {
		return nil, err
	}
	if err := s.life.RectifyToken(ctx, caller, req.GetClass(), req.GetToken(), req.GetValue()); err != nil {
		return nil, err
	}
	return &pb.RectifyTokenResponse{}, nil
}

// EraseSubject implements pb.SubjectServiceServer.
func (s *Service) EraseSubject(ctx context.Context, req *pb.EraseSubjectRequest) (*pb.EraseSubjectResponse, error) {
	caller, err := s.caller(ctx, audit.OpErase, "", req.GetSubjectId())
	if err != nil {
		return nil, err
	}
	r, err := s.life.EraseSubject(ctx, caller, req.GetSubjectId())
	if err != nil {
		return nil, err
	}
	return &pb.EraseSubjectResponse{Receipt: receipt(r)}, nil
}
