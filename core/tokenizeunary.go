package core

import (
	"context"
	"fmt"

	"github.com/privacyvault/privacyvault/audit"
	"github.com/privacyvault/privacyvault/store"
)

// StagedAuditor is an Auditor that can write a call's events in the
// store transaction that holds the call's records: one commit and one
// sync for both, and no hand-offs between the store's committer and the
// audit writer (the Badger store with the audit log file).
type StagedAuditor interface {
	Auditor
	// Stages reports whether RecordStaged can be used.
	Stages() bool
	// RecordStaged calls stage on the audit writer with the store's
	// transaction (a TxInserter), commits what stage inserted through it
	// with the events it returned, and returns nil once both are durable.
	// stage may be called again if its batch is given up (another call's
	// stage failed): it must do the same each time. If stage fails,
	// nothing of it is written and RecordStaged returns its error.
	RecordStaged(ctx context.Context, stage func(tx any) ([]AuditEvent, error)) error
}

// TxInserter inserts records in an open store transaction, deciding them
// as InsertStaged does; they commit with the transaction.
type TxInserter interface {
	InsertTx(recs []store.Record) ([]store.Outcome, error)
}

// maxStagedItems and maxStagedBytes bound the calls that insert with
// their event: the audit writer decides their records while it holds the
// store's write lock, and their transaction must stay far below Badger's
// size limit, so only small (unary) calls go that way.
const (
	maxStagedItems = 8
	maxStagedBytes = 64 << 10
)

// stager returns the auditor to stage a tokenize call of items with, or
// nil when the call takes the usual way.
func (s *DataPlane) stager(items []TokenizeItem) StagedAuditor {
	if s.joint || len(items) > maxStagedItems {
		return nil
	}
	n := 0
	for _, it := range items {
		n += len(it.Value)
	}
	if n > maxStagedBytes {
		return nil
	}
	if sa, ok := s.audit.(StagedAuditor); ok && sa.Stages() {
		return sa
	}
	return nil
}

// tokenizeWithEvent is Tokenize for a small call when the store and the
// audit log commit together: the records are prepared here, then decided,
// issued as tokens and audited on the audit writer in one store
// transaction, which one sync makes durable. Nothing is returned before
// it is.
func (s *DataPlane) tokenizeWithEvent(ctx context.Context, sa StagedAuditor, caller string, items []TokenizeItem, subjects []string) ([]TokenResult, error) {
	b := tokenizeBatch{items: items, res: make([]TokenResult, len(items)), fps: make([]string, len(items)), fpSet: s.fpSlots(len(items))}
	recs, pos, sealers, err := s.stageRecords(ctx, &b, subjects)
	if err != nil {
		return nil, err
	}
	classes := itemClasses(items)
	if len(recs) == 0 {
		// Nothing to store (vaultless or invalid items): the event alone
		// goes the usual way, an append to the audit file costing less
		// than a store transaction.
		if err := s.auditTokens(ctx, caller, "", audit.OpTokenize, classes, subjects, b.res, b.fps); err != nil {
			return nil, err
		}
		s.observeTokens(string(audit.OpTokenize), classes, b.res)
		return b.res, nil
	}
	var stageErr error
	err = sa.RecordStaged(context.WithoutCancel(ctx), func(tx any) ([]AuditEvent, error) {
		ins, ok := tx.(TxInserter)
		if !ok {
			stageErr = fmt.Errorf("core: tokenize: the audit journal's transaction is a %T, not a store transaction", tx)
			return nil, stageErr
		}
		stageErr = s.insertRecords(ctx, &b, recs, pos, sealers, ins.InsertTx)
		if stageErr != nil {
			return nil, stageErr
		}
		ev := s.tokenEvents(caller, "", audit.OpTokenize, classes, subjects, b.res, b.fps)
		return ev.list(), nil
	})
	switch {
	case stageErr != nil:
		return nil, stageErr
	case err != nil:
		return nil, s.auditFailed(ctx, audit.OpTokenize, err)
	}
	s.observeTokens(string(audit.OpTokenize), classes, b.res)
	return b.res, nil
}
