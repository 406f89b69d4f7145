package server_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/examples"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	"github.com/privacyvault/privacyvault/server/servertest"
)

func versionSubjectKeys(st *pb.ClassKeyStatus) map[uint32]uint64 {
	m := map[uint32]uint64{}
	for _, v := range st.GetVersions() {
		m[v.GetVersion()] = v.GetSubjectKeys()
	}
	return m
}

// TestSubjectKeysFollowRotation: per-subject keys are counted per key
// version, retiring a version that still wraps one is refused, and
// re-encryption re-wraps them so that rotate → reencrypt → retire works
// and subject-linked tokens still resolve, also after a restart.
func TestSubjectKeysFollowRotation(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	ctx := context.Background()
	app, admin := h.Client(checkout), h.Client(ops)
	frank := tokenizeFor(t, app, "frank", subjectData{class: "email", value: "frank@example.com"})
	if got := versionSubjectKeys(classStatus(t, admin, "email")); got[1] != 1 {
		t.Fatalf("subject keys per version = %v, want 1 at v1", got)
	}
	if _, err := admin.RotateKey(ctx, "email"); err != nil {
		t.Fatal(err)
	}
	gina := tokenizeFor(t, app, "gina", subjectData{class: "email", value: "gina@example.com"})
	if got := versionSubjectKeys(classStatus(t, admin, "email")); got[1] != 1 || got[2] != 1 {
		t.Errorf("after rotate subject keys per version = %v, want 1 at v1 (frank), 1 at v2 (gina)", got)
	}
	if _, err := admin.RetireKeyVersions(ctx, "email", 2); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("RetireKeyVersions(email, 2) while v1 wraps a subject key = %v, want FailedPrecondition", err)
	}

	if _, err := admin.StartReencrypt(ctx, "email"); err != nil {
		t.Fatal(err)
	}
	if j := waitJob(t, admin, "email"); j.GetState() != pb.ReencryptJob_STATE_DONE {
		t.Fatalf("re-encryption job = %v, want done", j)
	}
	if got := versionSubjectKeys(classStatus(t, admin, "email")); got[1] != 0 || got[2] != 2 {
		t.Errorf("after reencrypt subject keys per version = %v, want both at v2", got)
	}
	if st, err := admin.RetireKeyVersions(ctx, "email", 2); err != nil || st.GetMinDecryptionVersion() != 2 {
		t.Fatalf("RetireKeyVersions(email, 2) after reencrypt = %v, %v", st, err)
	}
	check := func(stage string) {
		t.Helper()
		for _, p := range []struct {
			subject string
			d       subjectData
		}{{"frank", frank[0]}, {"gina", gina[0]}} {
			if v, err := detokenizeFor(app, p.subject, p.d); err != nil || v != p.d.value {
				t.Errorf("%s: Detokenize(%s's email) = %q, %v; want %q", stage, p.subject, v, err, p.d.value)
			}
		}
	}
	check("after retire")
	h.Stop()
	h = servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	app = h.Client(checkout)
	check("after restart")
}

// TestShredFPESubjectKeysFollowRotation: subject keys of a
// shred_with_subject fpe class move too (re-encryption runs for them
// alone), and its tokens still resolve after the old version is retired.
func TestShredFPESubjectKeysFollowRotation(t *testing.T) {
	h := servertest.Start(t, servertest.Options{Config: examples.Config})
	ctx := context.Background()
	app, admin := h.Client(checkout), h.Client(ops)
	mona := tokenizeFor(t, app, "mona", subjectData{class: "member_number", value: "00123456789"})
	if _, err := admin.RotateKey(ctx, "member_number"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RetireKeyVersions(ctx, "member_number", 2); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("RetireKeyVersions(member_number, 2) while v1 wraps a subject key = %v, want FailedPrecondition", err)
	}
	if _, err := admin.StartReencrypt(ctx, "member_number"); err != nil {
		t.Fatalf("StartReencrypt(member_number) = %v, want a job for its subject keys", err)
	}
	if j := waitJob(t, admin, "member_number"); j.GetState() != pb.ReencryptJob_STATE_DONE {
		t.Fatalf("re-encryption job = %v, want done", j)
	}
	if got := versionSubjectKeys(classStatus(t, admin, "member_number")); got[1] != 0 || got[2] != 1 {
		t.Errorf("after reencrypt subject keys per version = %v, want 1 at v2", got)
	}
	if _, err := admin.RetireKeyVersions(ctx, "member_number", 2); err != nil {
		t.Fatalf("RetireKeyVersions(member_number, 2) after reencrypt = %v", err)
	}
	if v, err := detokenizeFor(app, "mona", mona[0]); err != nil || v != mona[0].value {
		t.Errorf("Detokenize(mona's member number) after retire = %q, %v; want %q", v, err, mona[0].value)
	}
}
