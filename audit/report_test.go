package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
)

func TestSubjectReport(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{CheckpointEvery: 2})
	alice, bob := testFP.Subject("alice"), testFP.Subject("bob")
	events := []audit.Event{
		{Caller: "billing", Purpose: "payment", Op: "detokenize", Class: "card_number", Count: 1, Decision: audit.DecisionAllow, Subject: alice},
		{Caller: "support", Purpose: "support", Op: "detokenize", Class: "email", Count: 1, Decision: audit.DecisionAllow, Subject: bob},
		{Caller: "marketing", Purpose: "ads", Op: "detokenize", Class: "email", Count: 1, Decision: audit.DecisionDeny, Subject: alice},
		{Caller: "signup", Op: "tokenize", Class: "email", Count: 1, Decision: audit.DecisionAllow, Subject: alice},
		{Caller: "support", Op: "detokenize", Class: "email", Count: 3, Decision: audit.DecisionAllow},
	}
	for _, ev := range events {
		if _, err := l.Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	closeLog(t, l)

	tests := []struct {
		name    string
		subject string
		want    []uint64 // seqs
	}{
		{"alice", alice, []uint64{1, 3, 4}},
		{"bob", bob, []uint64{2}},
		{"nobody", testFP.Subject("carol"), nil},
	}
	for _, tt := range tests {
		f, err := os.Open(filepath.Join(dir, audit.FileName))
		if err != nil {
			t.Fatal(err)
		}
		report, err := audit.SubjectReport(f, tt.subject)
		f.Close()
		var got []uint64
		for _, a := range report {
			got = append(got, a.Seq)
		}
		if !slices.Equal(got, tt.want) || err != nil {
			t.Errorf("SubjectReport(%s) seqs = %v, %v; want %v, nil", tt.name, got, err, tt.want)
		}
	}

	f, _ := os.Open(filepath.Join(dir, audit.FileName))
	defer f.Close()
	report, _ := audit.SubjectReport(f, alice)
	want := audit.Access{Seq: 3, Time: report[1].Time, Caller: "marketing", Purpose: "ads", Op: "detokenize", Class: "email", Count: 1, Decision: audit.DecisionDeny}
	if report[1] != want || report[1].Time.IsZero() {
		t.Errorf("SubjectReport(alice)[1] = %+v, want %+v with a time", report[1], want)
	}
}

func TestSubjectReportRejectsNonFingerprint(t *testing.T) {
	if _, err := audit.SubjectReport(nil, "alice"); err == nil {
		t.Error(`SubjectReport(nil, "alice") = nil error, want an error`)
	}
}
