package vault

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/api"
)

// auditHeadPath is where a sidecar's audit chain head is kept in KV.
func (p *Provider) auditHeadPath(name string) string {
	return p.cfg.KVMount + "/data/" + p.cfg.KVPrefix + "/audit-heads/" + name
}

// ReadAuditHead returns the audit chain head stored under name (its JSON
// as written by WriteAuditHead), or ok false if there is none.
func (p *Provider) ReadAuditHead(ctx context.Context, name string) (head string, ok bool, err error) {
	if !validPath(name) || strings.Contains(name, "/") {
		return "", false, fmt.Errorf("vault: audit head name %q is not a plain name", name)
	}
	var s *api.Secret
	err = p.do(ctx, "read audit chain head", func(ctx context.Context) (err error) {
		s, err = p.client.Logical().ReadWithContext(ctx, p.auditHeadPath(name))
		return err
	})
	if err != nil || s == nil {
		return "", false, err
	}
	data, _ := s.Data["data"].(map[string]any)
	head, ok = data["head"].(string)
	return head, ok, nil
}

// WriteAuditHead stores the audit chain head under name.
func (p *Provider) WriteAuditHead(ctx context.Context, name, head string) error {
	body := map[string]any{"data": map[string]any{"head": head}}
	return p.do(ctx, "write audit chain head", func(ctx context.Context) error {
		_, err := p.client.Logical().WriteWithContext(ctx, p.auditHeadPath(name), body)
		return err
	})
}
