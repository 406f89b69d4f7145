package admin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// AuditLog is read access to the sidecar's own audit log.
type AuditLog interface {
	// Verify checks the log file and that it reaches the head the running
	// sidecar wrote, which it returns.
	Verify(ctx context.Context) (audit.Summary, audit.Head, error)
	SubjectReport(ctx context.Context, subjectID string) ([]audit.Access, error)
	Tail(ctx context.Context, fromSeq uint64, w io.Writer) error
	IdentityReporter
}

// Chain is the verification of one sidecar instance's chain, in an audit
// trail with one chain per instance (audit.sink postgres).
type Chain struct {
	Instance string
	Summary  audit.Summary
	Err      error // *audit.VerifyError or *audit.HeadError, or nil
}

// ChainsVerifier is an audit trail with one chain per sidecar instance.
type ChainsVerifier interface {
	VerifyChains(ctx context.Context) ([]Chain, error)
}

// ChainsTailer follows every instance's chain, saying whose lines it sends.
type ChainsTailer interface {
	TailChains(ctx context.Context, fromSeq uint64, send func(instance string, lines []string) error) error
}

// VerifyAudit implements pb.AdminServiceServer.
func (s *Service) VerifyAudit(ctx context.Context, req *pb.VerifyAuditRequest) (*pb.VerifyAuditResponse, error) {
	if cv, ok := s.audit.(ChainsVerifier); ok {
		return s.verifyChains(ctx, cv)
	}
	type result struct {
		sum  audit.Summary
		head audit.Head
		err  error // a finding about the log, not a failed call
	}
	r, err := audited(ctx, s, "audit_verify", "", func() (result, error) {
		sum, head, err := s.audit.Verify(ctx)
		var ve *audit.VerifyError
		var he *audit.HeadError
		if err != nil && !errors.As(err, &ve) && !errors.As(err, &he) {
			return result{}, err
		}
		return result{sum, head, err}, nil
	})
	if err != nil {
		return nil, err
	}
	out := &pb.VerifyAuditResponse{
		Ok:                r.err == nil,
		Events:            uint64(r.sum.Events),
		Checkpoints:       uint64(r.sum.Checkpoints),
		LastSeq:           r.sum.LastSeq,
		LastCheckpointSeq: r.sum.LastCheckpointSeq,
		HeadSeq:           r.head.Seq,
		HeadHash:          r.head.Hash,
	}
	out.Unverifiable, out.Kind, out.Line, out.Message = finding(r.err)
	return out, nil
}

// finding describes a verification finding for the response.
func finding(err error) (unverifiable bool, kind string, line uint64, msg string) {
	var ve *audit.VerifyError
	var he *audit.HeadError
	switch {
	case errors.As(err, &ve) && ve.Kind == audit.KindUnverifiable:
		return true, "", uint64(ve.Line), ve.Msg
	case errors.As(err, &ve):
		return false, ve.Kind, uint64(ve.Line), ve.Msg
	case errors.As(err, &he):
		return false, he.Kind, 0, strings.TrimPrefix(he.Error(), "audit: ")
	}
	return false, "", 0, ""
}

// verifyChains verifies every instance's chain: ok only if all are.
func (s *Service) verifyChains(ctx context.Context, cv ChainsVerifier) (*pb.VerifyAuditResponse, error) {
	chains, err := audited(ctx, s, "audit_verify", "", func() ([]Chain, error) { return cv.VerifyChains(ctx) })
	if err != nil {
		return nil, err
	}
	out := &pb.VerifyAuditResponse{Ok: true}
	if h, ok := s.audit.(interface{ Head() audit.Head }); ok {
		head := h.Head()
		out.HeadSeq, out.HeadHash = head.Seq, head.Hash
	}
	for _, c := range chains {
		pc := &pb.AuditChain{
			Instance: c.Instance, Ok: c.Err == nil,
			Events: uint64(c.Summary.Events), Checkpoints: uint64(c.Summary.Checkpoints),
			LastSeq: c.Summary.LastSeq, LastCheckpointSeq: c.Summary.LastCheckpointSeq,
		}
		pc.Unverifiable, pc.Kind, pc.Line, pc.Message = finding(c.Err)
		out.Chains = append(out.Chains, pc)
		out.Events += pc.Events
		out.Checkpoints += pc.Checkpoints
		if c.Err != nil && out.Ok {
			out.Ok, out.Instance = false, c.Instance
			out.Unverifiable, out.Kind, out.Line, out.Message = pc.Unverifiable, pc.Kind, pc.Line, pc.Message
			out.LastSeq, out.LastCheckpointSeq = pc.LastSeq, pc.LastCheckpointSeq
		}
	}
	return out, nil
}

// GetSubjectAccessReport implements pb.AdminServiceServer.
func (s *Service) GetSubjectAccessReport(ctx context.Context, req *pb.GetSubjectAccessReportRequest) (*pb.GetSubjectAccessReportResponse, error) {
	if req.GetSubjectId() == "" {
		return nil, core.Invalid("subject_id", "is required")
	}
	acc, err := audited(ctx, s, "audit_subject_report", "", func() ([]audit.Access, error) {
		return s.audit.SubjectReport(ctx, req.GetSubjectId())
	})
	if err != nil {
		return nil, err
	}
	out := &pb.GetSubjectAccessReportResponse{}
	for _, a := range acc {
		out.Accesses = append(out.Accesses, &pb.SubjectAccess{
			Seq: a.Seq, Time: timestamppb.New(a.Time), Caller: a.Caller, Purpose: a.Purpose,
			Op: string(a.Op), Class: a.Class, Count: int64(a.Count), Decision: string(a.Decision),
			Instance: a.Instance,
		})
	}
	return out, nil
}

// TailAudit implements pb.AdminServiceServer.
func (s *Service) TailAudit(req *pb.TailAuditRequest, stream pb.AdminService_TailAuditServer) error {
	ctx := stream.Context()
	_, err := audited(ctx, s, "audit_tail", "", func() (struct{}, error) { return struct{}{}, nil })
	if err != nil {
		return err
	}
	if ct, ok := s.audit.(ChainsTailer); ok {
		err = ct.TailChains(ctx, req.GetFromSeq(), func(instance string, lines []string) error {
			return stream.Send(&pb.TailAuditResponse{Lines: lines, Instance: instance})
		})
	} else {
		err = s.audit.Tail(ctx, req.GetFromSeq(), streamWriter{stream})
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// streamWriter sends each write's complete lines as one message.
type streamWriter struct {
	stream pb.AdminService_TailAuditServer
}

func (w streamWriter) Write(p []byte) (int, error) {
	var lines []string
	for _, l := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		if len(l) > 0 {
			lines = append(lines, strings.Clone(string(l)))
		}
	}
	if len(lines) == 0 {
		return len(p), nil
	}
	if err := w.stream.Send(&pb.TailAuditResponse{Lines: lines}); err != nil {
		return 0, err
	}
	return len(p), nil
}
