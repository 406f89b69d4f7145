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

// VerifyAudit implements pb.AdminServiceServer.
func (s *Service) VerifyAudit(ctx context.Context, _ *pb.VerifyAuditRequest) (*pb.VerifyAuditResponse, error) {
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
	var ve *audit.VerifyError
	var he *audit.HeadError
	switch {
	case errors.As(r.err, &ve) && ve.Kind == audit.KindUnverifiable:
		out.Unverifiable, out.Line, out.Message = true, uint64(ve.Line), ve.Msg
	case errors.As(r.err, &ve):
		out.Kind, out.Line, out.Message = ve.Kind, uint64(ve.Line), ve.Msg
	case errors.As(r.err, &he):
		out.Kind, out.Message = he.Kind, strings.TrimPrefix(he.Error(), "audit: ")
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
	err = s.audit.Tail(ctx, req.GetFromSeq(), streamWriter{stream})
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
