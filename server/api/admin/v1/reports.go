package admin

import (
	"context"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/policy"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// Explainer explains policy decisions.
type Explainer interface {
	ExplainPolicy(identity, purpose, class string) (policy.Explanation, error)
}

// IdentityReporter summarises an identity's accesses from the audit log.
type IdentityReporter interface {
	IdentityReport(ctx context.Context, identity string, since, until time.Time, subjectIDs []string) (audit.IdentityReport, error)
}

// ExplainPolicy implements pb.AdminServiceServer.
func (s *Service) ExplainPolicy(ctx context.Context, req *pb.ExplainPolicyRequest) (*pb.ExplainPolicyResponse, error) {
	switch {
	case req.GetIdentity() == "":
		return nil, core.Invalid("identity", "is required")
	case req.GetPurpose() == "":
		return nil, core.Invalid("purpose", "is required")
	}
	e, err := audited(ctx, s, "policy_explain", req.GetClass(), func() (policy.Explanation, error) {
		return s.core.ExplainPolicy(req.GetIdentity(), req.GetPurpose(), req.GetClass())
	})
	if err != nil {
		return nil, err
	}
	out := &pb.ExplainPolicyResponse{Reveal: e.Reveal.String(), Reason: string(e.Reason), GrantIndex: int32(e.GrantIndex), RequiresConsent: e.RequiresConsent}
	if e.GrantIndex >= 0 {
		out.Grant = e.Grant.String()
	}
	return out, nil
}

// GetAccessReport implements pb.AdminServiceServer.
func (s *Service) GetAccessReport(ctx context.Context, req *pb.GetAccessReportRequest) (*pb.GetAccessReportResponse, error) {
	switch {
	case req.GetIdentity() == "":
		return nil, core.Invalid("identity", "is required")
	case req.GetSince() == nil:
		return nil, core.Invalid("since", "is required")
	case slices.Contains(req.GetSubjectIds(), ""):
		return nil, core.Invalid("subject_ids", "must not hold an empty id")
	}
	var until time.Time
	if req.GetUntil() != nil {
		until = req.GetUntil().AsTime()
		if !until.After(req.GetSince().AsTime()) {
			return nil, core.Invalid("until", "must be after since")
		}
	}
	rep, err := audited(ctx, s, "audit_access_report", "", func() (audit.IdentityReport, error) {
		return s.audit.IdentityReport(ctx, req.GetIdentity(), req.GetSince().AsTime(), until, req.GetSubjectIds())
	})
	if err != nil {
		return nil, err
	}
	out := &pb.GetAccessReportResponse{Events: uint64(rep.Events), ValuesRevealed: uint64(rep.Values), Denied: uint64(rep.Denied)}
	for _, r := range rep.Rows {
		out.Rows = append(out.Rows, &pb.AccessReportRow{SubjectFp: r.Subject, SubjectId: r.SubjectID, Class: r.Class, Purpose: r.Purpose,
			Values: uint64(r.Values), First: timestamppb.New(r.First), Last: timestamppb.New(r.Last)})
	}
	return out, nil
}
