package audit_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/privacyvault/privacyvault/audit"
)

// fuzzLog returns a genuine log of a few events closed by a checkpoint.
func fuzzLog(f *testing.F) []byte {
	dir := f.TempDir()
	l, err := audit.Open(dir, audit.Options{Signer: testSigner(1), CheckpointEvery: 3})
	if err != nil {
		f.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if _, err := l.Append(f.Context(), testEvent(i)); err != nil {
			f.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, audit.FileName))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzVerify: Verify and SubjectReport never panic on any input, and any
// change of one byte of a genuine log is reported by Verify.
func FuzzVerify(f *testing.F) {
	genuine := fuzzLog(f)
	v := audit.NewEd25519Verifier(testSigner(1).Public())
	f.Add(genuine, uint16(0), byte('x'))
	f.Add(genuine[:len(genuine)/2], uint16(100), byte('\n'))
	f.Add([]byte(`{"type":"checkpoint","seq":1}`+"\n"), uint16(7), byte('9'))
	f.Fuzz(func(t *testing.T, data []byte, at uint16, b byte) {
		_, _ = audit.Verify(bytes.NewReader(data), v)
		_, _ = audit.SubjectReport(bytes.NewReader(data), testFP.Subject("subject-1"))

		edited := bytes.Clone(genuine)
		i := int(at) % len(edited)
		if edited[i] == b {
			return
		}
		edited[i] = b
		if sum, err := audit.Verify(bytes.NewReader(edited), v); err == nil {
			t.Fatalf("Verify(log with byte %d changed from %q to %q) = %+v, nil; want the edit reported", i, genuine[i], b, sum)
		}
	})
}
