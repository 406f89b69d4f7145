package subject_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/identity"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	subject "github.com/privacyvault/privacyvault/server/api/subject/v1"
)

// fakeCore records calls; refused holds what RecordRefused was told.
type fakeCore struct {
	calls   []string
	refused []refusal
	consent core.Consent
	items   []core.SubjectItem
	receipt audit.Receipt
	args    []any
}

type refusal struct {
	caller    string
	op        audit.Op
	class     string
	subjectID string
}

func (f *fakeCore) SetConsent(_ context.Context, caller, subjectID, purpose, basis string, expires time.Time) (core.Consent, error) {
	f.calls, f.args = append(f.calls, "SetConsent"), []any{caller, subjectID, purpose, basis, expires}
	return f.consent, nil
}

func (f *fakeCore) RevokeConsent(_ context.Context, caller, subjectID, purpose string) (core.Consent, error) {
	f.calls = append(f.calls, "RevokeConsent")
	return f.consent, nil
}

func (f *fakeCore) ListConsents(_ context.Context, caller, subjectID string) ([]core.Consent, error) {
	f.calls = append(f.calls, "ListConsents")
	return []core.Consent{f.consent, f.consent}, nil
}

func (f *fakeCore) RecordRefused(_ context.Context, caller string, op audit.Op, class, subjectID string, denied error) error {
	f.refused = append(f.refused, refusal{caller, op, class, subjectID})
	return denied
}

func (f *fakeCore) ExportSubject(_ context.Context, caller, subjectID string) ([]core.SubjectItem, error) {
	f.calls = append(f.calls, "ExportSubject")
	return f.items, nil
}

func (f *fakeCore) RectifyToken(_ context.Context, caller, class, token string, value []byte) error {
	f.calls, f.args = append(f.calls, "RectifyToken"), []any{caller, class, token, string(value)}
	return nil
}

func (f *fakeCore) DeleteToken(_ context.Context, caller, class, token string) (audit.Receipt, error) {
	f.calls = append(f.calls, "DeleteToken")
	return f.receipt, nil
}

func (f *fakeCore) EraseSubject(_ context.Context, caller, subjectID string) (audit.Receipt, error) {
	f.calls = append(f.calls, "EraseSubject")
	return f.receipt, nil
}

func newService(f *fakeCore) *subject.Service {
	return subject.New(subject.Config{Core: f, Life: f, Managers: []string{"dpo"}})
}

func as(id string) context.Context {
	return identity.NewContext(context.Background(), identity.Identity(id))
}

// exportStream collects the messages of ExportSubject.
type exportStream struct {
	grpc.ServerStream
	ctx  context.Context
	msgs []*pb.ExportSubjectResponse
}

func (s *exportStream) Context() context.Context { return s.ctx }

func (s *exportStream) Send(m *pb.ExportSubjectResponse) error {
	s.msgs = append(s.msgs, m)
	return nil
}

// TestRefusedCallersAudited: a caller that is not a subject manager is
// refused before core acts, and the refusal is recorded with the op, the
// class and the subject the request named.
func TestRefusedCallersAudited(t *testing.T) {
	tests := []struct {
		name string
		call func(s *subject.Service, ctx context.Context) error
		want refusal
	}{
		{"SetConsent", func(s *subject.Service, ctx context.Context) error {
			_, err := s.SetConsent(ctx, &pb.SetConsentRequest{SubjectId: "cust-1", Purpose: "marketing"})
			return err
		}, refusal{"checkout", audit.OpConsentSet, "", "cust-1"}},
		{"RevokeConsent", func(s *subject.Service, ctx context.Context) error {
			_, err := s.RevokeConsent(ctx, &pb.RevokeConsentRequest{SubjectId: "cust-1"})
			return err
		}, refusal{"checkout", audit.OpConsentRevoke, "", "cust-1"}},
		{"ListConsents", func(s *subject.Service, ctx context.Context) error {
			_, err := s.ListConsents(ctx, &pb.ListConsentsRequest{SubjectId: "cust-1"})
			return err
		}, refusal{"checkout", audit.OpConsentList, "", "cust-1"}},
		{"ExportSubject", func(s *subject.Service, ctx context.Context) error {
			return s.ExportSubject(&pb.ExportSubjectRequest{SubjectId: "cust-1"}, &exportStream{ctx: ctx})
		}, refusal{"checkout", audit.OpExport, "", "cust-1"}},
		{"RectifyToken", func(s *subject.Service, ctx context.Context) error {
			_, err := s.RectifyToken(ctx, &pb.RectifyTokenRequest{Class: "email", Token: "t"})
			return err
		}, refusal{"checkout", audit.OpRectify, "email", ""}},
		{"EraseSubject", func(s *subject.Service, ctx context.Context) error {
			_, err := s.EraseSubject(ctx, &pb.EraseSubjectRequest{SubjectId: "cust-1"})
			return err
		}, refusal{"checkout", audit.OpErase, "", "cust-1"}},
	}
	for _, tt := range tests {
		f := &fakeCore{}
		err := tt.call(newService(f), as("checkout"))
		if !errors.Is(err, core.ErrNotSubjectManager) || len(f.calls) != 0 {
			t.Errorf("%s by a non-manager = %v, core calls %v; want ErrNotSubjectManager and none", tt.name, err, f.calls)
		}
		if len(f.refused) != 1 || f.refused[0] != tt.want {
			t.Errorf("%s by a non-manager recorded %+v, want [%+v]", tt.name, f.refused, tt.want)
		}
		f = &fakeCore{}
		if err := tt.call(newService(f), context.Background()); !errors.Is(err, identity.ErrUnauthenticated) || len(f.calls)+len(f.refused) != 0 {
			t.Errorf("%s without identity = %v, core calls %v; want ErrUnauthenticated and none", tt.name, err, f.calls)
		}
	}
}

func TestSetConsentMapsRequestAndRecord(t *testing.T) {
	granted := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	expires := granted.AddDate(1, 0, 0)
	f := &fakeCore{consent: core.Consent{SubjectID: "cust-1", Purpose: "marketing", LawfulBasis: "consent", GrantedAt: granted, ExpiresAt: expires, Live: true}}
	res, err := newService(f).SetConsent(as("dpo"), &pb.SetConsentRequest{
		SubjectId: "cust-1", Purpose: "marketing", LawfulBasis: "consent", ExpiresAt: timestamppb.New(expires),
	})
	if err != nil {
		t.Fatalf("SetConsent = %v", err)
	}
	if want := []any{"dpo", "cust-1", "marketing", "consent", expires}; len(f.args) != 5 || !slices.Equal(f.args[:4], want[:4]) || !f.args[4].(time.Time).Equal(expires) {
		t.Errorf("core.SetConsent args = %v, want %v", f.args, want)
	}
	c := res.GetConsent()
	if c.GetSubjectId() != "cust-1" || !c.GetGrantedAt().AsTime().Equal(granted) || !c.GetExpiresAt().AsTime().Equal(expires) || c.GetRevokedAt() != nil || !c.GetLive() {
		t.Errorf("SetConsent record = %v, want cust-1 granted %v expiring %v, not revoked, live", c, granted, expires)
	}
}

// TestExportSubjectBatches: items go out 500 to a message; an empty
// export is one empty message.
func TestExportSubjectBatches(t *testing.T) {
	tests := []struct {
		items int
		want  []int
	}{
		{0, []int{0}},
		{500, []int{500}},
		{1201, []int{500, 500, 201}},
	}
	for _, tt := range tests {
		f := &fakeCore{items: make([]core.SubjectItem, tt.items)}
		st := &exportStream{ctx: as("dpo")}
		if err := newService(f).ExportSubject(&pb.ExportSubjectRequest{SubjectId: "cust-1"}, st); err != nil {
			t.Fatalf("ExportSubject(%d items) = %v", tt.items, err)
		}
		var got []int
		for _, m := range st.msgs {
			got = append(got, len(m.GetTokens()))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ExportSubject(%d items) messages = %v, want %v", tt.items, got, tt.want)
		}
	}
}

func TestEraseSubjectMapsReceipt(t *testing.T) {
	at := time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)
	f := &fakeCore{receipt: audit.Receipt{Subject: "fp", ErasedAt: at, Records: 3, Keys: 2, Consents: 1, KeyID: "ed25519:ab", Signature: []byte{1, 2}, Remains: "dead tuples"}}
	res, err := newService(f).EraseSubject(as("dpo"), &pb.EraseSubjectRequest{SubjectId: "cust-1"})
	if err != nil {
		t.Fatalf("EraseSubject = %v", err)
	}
	r := res.GetReceipt()
	if r.GetSubjectFp() != "fp" || !r.GetErasedAt().AsTime().Equal(at) || r.GetRecords() != 3 || r.GetSubjectKeys() != 2 || r.GetConsents() != 1 || r.GetKeyId() != "ed25519:ab" || len(r.GetSignature()) != 2 || r.GetRemains() != "dead tuples" {
		t.Errorf("EraseSubject receipt = %v, want the core receipt field for field", r)
	}
}
