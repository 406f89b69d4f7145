package server

import (
	"time"

	"github.com/privacyvault/privacyvault/core"
)

// Hooks let tests put a faulty part in place of a real one while
// everything else runs for real (see also Options.AuditHook). Production
// code leaves them nil.
type Hooks struct {
	// Receipts wraps the erasure receipt signer (e.g. one that is down).
	Receipts func(core.ReceiptSigner) core.ReceiptSigner
	// Now replaces the data plane's clock (token expiry, retention purge,
	// quotas), so tests move time instead of sleeping.
	Now func() time.Time
}

func (h Hooks) receipts(r core.ReceiptSigner) core.ReceiptSigner {
	if h.Receipts == nil {
		return r
	}
	return h.Receipts(r)
}
