package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/privacyvault/privacyvault/audit"
)

func ExampleLog() {
	dir, err := os.MkdirTemp("", "audit-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	signer, err := audit.LoadOrCreateEd25519(filepath.Join(dir, "audit.key"))
	if err != nil {
		panic(err)
	}
	fp, err := audit.NewFingerprinter([]byte("a 32-byte key from the key store"))
	if err != nil {
		panic(err)
	}
	auditLog, err := audit.Open(dir, audit.Options{Signer: signer})
	if err != nil {
		panic(err)
	}
	ev, err := auditLog.Append(context.Background(), audit.Event{
		Caller:   "spiffe://example.org/billing",
		Purpose:  "payment",
		Op:       "detokenize",
		Class:    "card_number",
		Count:    1,
		Decision: audit.DecisionAllow,
		Tokens:   []string{fp.Token("card_number", "4111110000001111")},
		Subject:  fp.Subject("customer-42"),
	})
	if err != nil {
		panic(err) // fail closed: the call must be refused
	}
	fmt.Println("appended seq", ev.Seq)
	if err := auditLog.Close(); err != nil { // signs a final checkpoint
		panic(err)
	}

	f, err := os.Open(filepath.Join(dir, audit.FileName))
	if err != nil {
		panic(err)
	}
	defer f.Close()
	sum, err := audit.Verify(f, signer)
	fmt.Printf("%d event, %d checkpoint, signed up to seq %d, %v\n", sum.Events, sum.Checkpoints, sum.LastCheckpointSeq, err)

	f.Seek(0, 0)
	report, err := audit.SubjectReport(f, fp.Subject("customer-42"))
	fmt.Println(report[0].Caller, report[0].Purpose, report[0].Op, err)
	// Output:
	// appended seq 1
	// 1 event, 1 checkpoint, signed up to seq 1, <nil>
	// spiffe://example.org/billing payment detokenize <nil>
}
