package server

import "github.com/privacyvault/privacyvault/core"

// Hooks let tests put a faulty part in place of a real one (an audit log
// that fails, a receipt signer that is down) while everything else runs
// for real. Production code leaves them nil.
type Hooks struct {
	// Auditor wraps the data plane's audit writer.
	Auditor func(core.Auditor) core.Auditor
	// Receipts wraps the erasure receipt signer.
	Receipts func(core.ReceiptSigner) core.ReceiptSigner
}

func (h Hooks) auditor(a core.Auditor) core.Auditor {
	if h.Auditor == nil {
		return a
	}
	return h.Auditor(a)
}

func (h Hooks) receipts(r core.ReceiptSigner) core.ReceiptSigner {
	if h.Receipts == nil {
		return r
	}
	return h.Receipts(r)
}
