package server

import (
	"context"
	"os"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/config"
	subject "github.com/privacyvault/privacyvault/server/api/subject/v1"
)

// IdentityReport summarises what identity revealed in [since, until),
// naming the subjects among subjectIDs.
func (r auditReader) IdentityReport(_ context.Context, identity string, since, until time.Time, subjectIDs []string) (audit.IdentityReport, error) {
	f, err := os.Open(r.path)
	if err != nil {
		return audit.IdentityReport{}, err
	}
	defer f.Close()
	rep, err := audit.ReportIdentity(f, identity, since, until)
	if err != nil || len(subjectIDs) == 0 {
		return rep, err
	}
	ids := make(map[string]string, len(subjectIDs))
	for _, id := range subjectIDs {
		ids[r.fp.Subject(id)] = id
	}
	for i := range rep.Rows {
		rep.Rows[i].SubjectID = ids[rep.Rows[i].Subject]
	}
	return rep, nil
}

// classInfo is what subject exports say about each class.
func classInfo(cfg *config.Config) map[string]subject.ClassInfo {
	out := make(map[string]subject.ClassInfo, len(cfg.Classes))
	for _, c := range cfg.Classes {
		out[c.Name] = subject.ClassInfo{Description: c.Description, Binary: c.Binary}
	}
	return out
}
