package admin_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/core"
	"github.com/privacyvault/privacyvault/identity"
	"github.com/privacyvault/privacyvault/policy"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	admin "github.com/privacyvault/privacyvault/server/api/admin/v1"
)

// fakeCore logs every call in order, so tests can check what was audited
// before what.
type fakeCore struct {
	log       []string
	opErr     error // returned by the admin operation
	intentErr error // returned by RecordAdminIntent
	recordErr error // returned by RecordAdmin
}

func (f *fakeCore) add(format string, args ...any) {
	f.log = append(f.log, fmt.Sprintf(format, args...))
}

func (f *fakeCore) KeyStatus(context.Context) ([]core.ClassKeyStatus, error) {
	f.add("KeyStatus")
	return []core.ClassKeyStatus{{Class: "email", Current: 2}}, f.opErr
}

func (f *fakeCore) Rotate(_ context.Context, class string) (core.ClassKeyStatus, error) {
	f.add("Rotate %s", class)
	return core.ClassKeyStatus{Class: class, Current: 3}, f.opErr
}

func (f *fakeCore) Rewrap(context.Context) (int, error) { f.add("Rewrap"); return 4, f.opErr }

func (f *fakeCore) StartReencrypt(_ context.Context, class string) (core.ReencryptStatus, error) {
	f.add("StartReencrypt %s", class)
	return core.ReencryptStatus{Class: class}, f.opErr
}

func (f *fakeCore) ReencryptStatus(_ context.Context, class string) (core.ReencryptStatus, error) {
	f.add("ReencryptStatus %s", class)
	return core.ReencryptStatus{Class: class}, f.opErr
}

func (f *fakeCore) Retire(_ context.Context, class string, below uint32) (core.ClassKeyStatus, error) {
	f.add("Retire %s %d", class, below)
	return core.ClassKeyStatus{Class: class}, f.opErr
}

func (f *fakeCore) Retokenize(_ context.Context, class string, from, to uint32, items []core.RetokenizeItem) ([]core.TokenResult, error) {
	f.add("Retokenize %s", class)
	return nil, f.opErr
}

func (f *fakeCore) RecordAdmin(_ context.Context, caller, op, class string, opErr error) error {
	f.add("record %s %s %s err=%v", caller, op, class, opErr != nil)
	return f.recordErr
}

func (f *fakeCore) RecordAdminIntent(_ context.Context, caller, op, class string) error {
	f.add("intent %s %s %s", caller, op, class)
	return f.intentErr
}

func (f *fakeCore) RecordRefused(_ context.Context, caller string, op audit.Op, class, subjectID string, denied error) error {
	f.add("refused %s %s %s", caller, op, class)
	return denied
}

func (f *fakeCore) CheckClass(name string) error {
	f.add("CheckClass %s", name)
	if name != "email" {
		return core.Invalid("class", "unknown data class (not in the configuration)")
	}
	return nil
}

func (f *fakeCore) ExplainPolicy(identity, purpose, class string) (policy.Explanation, error) {
	f.add("ExplainPolicy %s %s %s", identity, purpose, class)
	return policy.Explanation{}, f.opErr
}

func (f *fakeCore) PurgeExpired(context.Context) (map[string]int, error) {
	f.add("PurgeExpired")
	return nil, f.opErr
}

func as(id string) context.Context {
	return identity.NewContext(context.Background(), identity.Identity(id))
}

func rotate(f *fakeCore, ctx context.Context, class string) error {
	_, err := admin.New(admin.Config{Core: f, Admins: []string{"ops"}, MaxBatch: 10}).RotateKey(ctx, &pb.RotateKeyRequest{Class: class})
	return err
}

// TestChangingOrder: a change is authorized, its class checked, its intent
// made durable, then it runs and its outcome is recorded; each failure
// stops what follows it.
func TestChangingOrder(t *testing.T) {
	opFailed := errors.New("vault: transit unavailable")
	var invalid *core.InvalidError
	tests := []struct {
		name    string
		ctx     context.Context
		class   string
		core    fakeCore
		wantErr func(error) bool
		wantLog []string
	}{
		{"done", as("ops"), "email", fakeCore{}, func(err error) bool { return err == nil },
			[]string{"CheckClass email", "intent ops rotate email", "Rotate email", "record ops rotate email err=false"}},
		{"not an admin", as("checkout"), "email", fakeCore{}, func(err error) bool { return errors.Is(err, core.ErrNotAdmin) },
			[]string{"refused checkout admin.rotate email"}},
		{"no identity", context.Background(), "email", fakeCore{}, func(err error) bool { return errors.Is(err, identity.ErrUnauthenticated) },
			nil},
		{"unknown class", as("ops"), "e-mail", fakeCore{}, func(err error) bool { return errors.As(err, &invalid) },
			[]string{"CheckClass e-mail", "record ops rotate e-mail err=true"}},
		{"intent not durable", as("ops"), "email", fakeCore{intentErr: core.ErrAuditFailed}, func(err error) bool { return errors.Is(err, core.ErrAuditFailed) },
			[]string{"CheckClass email", "intent ops rotate email"}},
		{"operation failed", as("ops"), "email", fakeCore{opErr: opFailed}, func(err error) bool { return errors.Is(err, opFailed) },
			[]string{"CheckClass email", "intent ops rotate email", "Rotate email", "record ops rotate email err=true"}},
		{"outcome not durable", as("ops"), "email", fakeCore{recordErr: core.ErrAuditFailed}, func(err error) bool { return errors.Is(err, core.ErrAuditFailed) },
			[]string{"CheckClass email", "intent ops rotate email", "Rotate email", "record ops rotate email err=false"}},
	}
	for _, tt := range tests {
		f := tt.core
		err := rotate(&f, tt.ctx, tt.class)
		if !tt.wantErr(err) || !slices.Equal(f.log, tt.wantLog) {
			t.Errorf("%s: RotateKey = %v, calls %q; want calls %q", tt.name, err, f.log, tt.wantLog)
		}
	}
}

// TestReadsAuditedWithoutIntent: a read is recorded after it runs, with
// no intent event.
func TestReadsAuditedWithoutIntent(t *testing.T) {
	f := &fakeCore{}
	res, err := admin.New(admin.Config{Core: f, Admins: []string{"ops"}}).GetKeyStatus(as("ops"), &pb.GetKeyStatusRequest{})
	if err != nil || len(res.GetClasses()) != 1 || res.GetClasses()[0].GetCurrentVersion() != 2 {
		t.Fatalf("GetKeyStatus = %v, %v; want email at version 2", res, err)
	}
	if want := []string{"KeyStatus", "record ops key_status  err=false"}; !slices.Equal(f.log, want) {
		t.Errorf("GetKeyStatus calls = %q, want %q", f.log, want)
	}
}
