// Package admin implements privacyvault.v1.AdminService: key status,
// rotation, re-wrapping and re-encryption, for admin identities only.
package admin

import (
	"context"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/identity"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

var _ pb.AdminServiceServer = (*Service)(nil)

// Core is the part of the data plane admin calls use.
type Core interface {
	KeyStatus(ctx context.Context) ([]core.ClassKeyStatus, error)
	Rotate(ctx context.Context, class string) (core.ClassKeyStatus, error)
	Rewrap(ctx context.Context) (int, error)
	StartReencrypt(ctx context.Context, class string) (core.ReencryptStatus, error)
	ReencryptStatus(ctx context.Context, class string) (core.ReencryptStatus, error)
	Retire(ctx context.Context, class string, below uint32) (core.ClassKeyStatus, error)
	Retokenize(ctx context.Context, class string, from, to uint32, items []core.RetokenizeItem) ([]core.TokenResult, error)
	RecordAdmin(ctx context.Context, caller, op, class string, opErr error) error
	RecordAdminIntent(ctx context.Context, caller, op, class string) error
	RecordRefused(ctx context.Context, caller string, op audit.Op, class, subjectID string, denied error) error
	CheckClass(name string) error
	PurgeExpired(ctx context.Context) (map[string]int, error)
	Explainer
}

// Config configures New.
type Config struct {
	Core Core
	// Admins are the identities allowed to call the service.
	Admins []string
	// MaxBatch bounds the items of one RetokenizeFPE message.
	MaxBatch int
	// Audit reads the sidecar's audit log.
	Audit AuditLog
	// Keys lists the audit verification keys.
	Keys audit.KeySource
}

// Service is the AdminService implementation.
type Service struct {
	pb.UnimplementedAdminServiceServer
	core     Core
	admins   []string
	maxBatch int
	audit    AuditLog
	keys     audit.KeySource
}

// New returns the service.
func New(c Config) *Service {
	return &Service{core: c.Core, admins: c.Admins, maxBatch: c.MaxBatch, audit: c.Audit, keys: c.Keys}
}

// RegisterService registers s with g.
func RegisterService(g grpc.ServiceRegistrar, s *Service) { pb.RegisterAdminServiceServer(g, s) }

// authorize returns the caller if it is an admin. A refusal is audited
// and counts towards the caller's denied-burst alert, like a denied
// detokenize.
func (s *Service) authorize(ctx context.Context, op, class string) (string, error) {
	id, ok := identity.FromContext(ctx)
	if !ok {
		return "", identity.ErrUnauthenticated
	}
	if !slices.Contains(s.admins, string(id)) {
		return "", s.core.RecordRefused(ctx, string(id), audit.AdminOp(op), class, "", core.ErrNotAdmin)
	}
	return string(id), nil
}

// audited runs an admin operation and writes its audit event; an
// operation whose event cannot be written reports the audit failure.
// An operation on a class refuses names that are not configured classes
// before it acts (the event then names no class).
func audited[T any](ctx context.Context, s *Service, op, class string, f func() (T, error)) (T, error) {
	var zero T
	caller, err := s.admit(ctx, op, class)
	if err != nil {
		return zero, err
	}
	v, err := f()
	if aerr := s.core.RecordAdmin(ctx, caller, op, class, err); aerr != nil {
		return zero, aerr
	}
	return v, err
}

// admit returns the caller of an admin operation if it is an admin and
// the class it names, if any, is configured; an unknown class is audited
// as the operation's failure.
func (s *Service) admit(ctx context.Context, op, class string) (string, error) {
	caller, err := s.authorize(ctx, op, class)
	if err != nil {
		return "", err
	}
	if class != "" || classOps[op] {
		if err := s.core.CheckClass(class); err != nil {
			if aerr := s.core.RecordAdmin(ctx, caller, op, class, err); aerr != nil {
				return "", aerr
			}
			return "", err
		}
	}
	return caller, nil
}

// classOps are the operations that name a class.
var classOps = map[string]bool{"rotate": true, "reencrypt": true, "reencrypt_status": true, "retire": true, "retokenize": true}

// GetKeyStatus implements pb.AdminServiceServer.
func (s *Service) GetKeyStatus(ctx context.Context, _ *pb.GetKeyStatusRequest) (*pb.GetKeyStatusResponse, error) {
	st, err := audited(ctx, s, "key_status", "", func() ([]core.ClassKeyStatus, error) { return s.core.KeyStatus(ctx) })
	if err != nil {
		return nil, err
	}
	out := &pb.GetKeyStatusResponse{}
	for _, c := range st {
		out.Classes = append(out.Classes, classStatus(c))
	}
	return out, nil
}

// RotateKey implements pb.AdminServiceServer.
func (s *Service) RotateKey(ctx context.Context, req *pb.RotateKeyRequest) (*pb.RotateKeyResponse, error) {
	st, err := changing(ctx, s, "rotate", req.GetClass(), func() (core.ClassKeyStatus, error) { return s.core.Rotate(ctx, req.GetClass()) })
	if err != nil {
		return nil, err
	}
	return &pb.RotateKeyResponse{Status: classStatus(st)}, nil
}

// RewrapKeys implements pb.AdminServiceServer.
func (s *Service) RewrapKeys(ctx context.Context, _ *pb.RewrapKeysRequest) (*pb.RewrapKeysResponse, error) {
	n, err := changing(ctx, s, "rewrap", "", func() (int, error) { return s.core.Rewrap(ctx) })
	if err != nil {
		return nil, err
	}
	return &pb.RewrapKeysResponse{Rewrapped: uint32(n)}, nil
}

// StartReencrypt implements pb.AdminServiceServer.
func (s *Service) StartReencrypt(ctx context.Context, req *pb.StartReencryptRequest) (*pb.StartReencryptResponse, error) {
	st, err := changing(ctx, s, "reencrypt", req.GetClass(), func() (core.ReencryptStatus, error) { return s.core.StartReencrypt(ctx, req.GetClass()) })
	if err != nil {
		return nil, err
	}
	return &pb.StartReencryptResponse{Job: job(st)}, nil
}

// GetReencrypt implements pb.AdminServiceServer.
func (s *Service) GetReencrypt(ctx context.Context, req *pb.GetReencryptRequest) (*pb.GetReencryptResponse, error) {
	st, err := audited(ctx, s, "reencrypt_status", req.GetClass(), func() (core.ReencryptStatus, error) { return s.core.ReencryptStatus(ctx, req.GetClass()) })
	if err != nil {
		return nil, err
	}
	return &pb.GetReencryptResponse{Job: job(st)}, nil
}

// RetireKeyVersions implements pb.AdminServiceServer.
func (s *Service) RetireKeyVersions(ctx context.Context, req *pb.RetireKeyVersionsRequest) (*pb.RetireKeyVersionsResponse, error) {
	st, err := changing(ctx, s, "retire", req.GetClass(), func() (core.ClassKeyStatus, error) { return s.core.Retire(ctx, req.GetClass(), req.GetBelow()) })
	if err != nil {
		return nil, err
	}
	return &pb.RetireKeyVersionsResponse{Status: classStatus(st)}, nil
}

func classStatus(c core.ClassKeyStatus) *pb.ClassKeyStatus {
	out := &pb.ClassKeyStatus{
		Class:                c.Class,
		Mode:                 string(c.Mode),
		CurrentVersion:       c.Current,
		MinDecryptionVersion: c.MinDecryptionVersion,
		FpeKeyVersion:        c.FPEKeyVersion,
	}
	for _, v := range c.Versions {
		out.Versions = append(out.Versions, &pb.KeyVersionStatus{Version: v.Version, Records: v.Records, Current: v.Current, Retired: v.Retired, SubjectKeys: v.SubjectKeys})
	}
	return out
}

func job(st core.ReencryptStatus) *pb.ReencryptJob {
	state := pb.ReencryptJob_STATE_UNSPECIFIED
	switch st.State {
	case core.JobRunning:
		state = pb.ReencryptJob_STATE_RUNNING
	case core.JobDone:
		state = pb.ReencryptJob_STATE_DONE
	case core.JobFailed:
		state = pb.ReencryptJob_STATE_FAILED
	}
	return &pb.ReencryptJob{
		Class:         st.Class,
		TargetVersion: st.Target,
		State:         state,
		Total:         st.Total,
		Moved:         st.Moved,
		Scanned:       st.Scanned,
		Error:         st.Error,
		Started:       timestamppb.New(st.Started),
		Updated:       timestamppb.New(st.Updated),
	}
}

// PurgeExpired implements pb.AdminServiceServer.
func (s *Service) PurgeExpired(ctx context.Context, _ *pb.PurgeExpiredRequest) (*pb.PurgeExpiredResponse, error) {
	n, err := changing(ctx, s, "purge", "", func() (map[string]int, error) { return s.core.PurgeExpired(ctx) })
	if err != nil {
		return nil, err
	}
	out := &pb.PurgeExpiredResponse{Deleted: map[string]uint64{}}
	for class, v := range n {
		out.Deleted[class] = uint64(v)
	}
	return out, nil
}
