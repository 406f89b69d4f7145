package server

import (
	"context"
	"os"
	"time"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/config"
	subject "github.com/privacyvault/privacyvault/server/api/subject/v1"
)

// IdentityReport summarises what identity revealed in [since, until).
func (r auditReader) IdentityReport(_ context.Context, identity string, since, until time.Time) (audit.IdentityReport, error) {
	f, err := os.Open(r.path)
	if err != nil {
		return audit.IdentityReport{}, err
	}
	defer f.Close()
	return audit.ReportIdentity(f, identity, since, until)
}

// classInfo is what subject exports say about each class.
func classInfo(cfg *config.Config) map[string]subject.ClassInfo {
	out := make(map[string]subject.ClassInfo, len(cfg.Classes))
	for _, c := range cfg.Classes {
		out[c.Name] = subject.ClassInfo{Description: c.Description, Binary: c.Binary}
	}
	return out
}
