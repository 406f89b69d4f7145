package main

import "github.com/spf13/pflag"

// addAuditResetFlag adds serve's --accept-audit-log-reset: start even if
// the audit log does not reach the chain head recorded in the store (and
// Vault), recording the reset in the log. Without it such a start fails
// with both heads named.
func addAuditResetFlag(fs *pflag.FlagSet) *bool {
	return fs.Bool("accept-audit-log-reset", false,
		"start although the audit log is shorter than, or diverges from, the chain head recorded outside it (truncated, deleted or replaced log); the reset is recorded in the log")
}
