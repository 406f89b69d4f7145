package core

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/tokenizer"
)

func testClass(t *testing.T, current, minDecrypt uint32) *class {
	t.Helper()
	var keys []*kms.Key
	for v := uint32(1); v <= current; v++ {
		k, err := kms.NewKey(v, bytes.Repeat([]byte{byte(v)}, 32))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	ring, err := kms.NewKeyring("email", current, minDecrypt, keys)
	if err != nil {
		t.Fatal(err)
	}
	c, err := newClass(ClassSpec{Name: "email", Mode: tokenizer.Random}, ring)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSubjectKeyWrapVersions: keys are wrapped under the current version
// and say so; keys stored before versions were recorded (no prefix,
// under the first version) still open; a retired version's keys do not.
func TestSubjectKeyWrapVersions(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	c2 := testClass(t, 2, 1)
	w := c2.wrapSubjectKey("fp", key)
	if v, err := c2.subjectWrapVersion(w); err != nil || v != 2 {
		t.Errorf("subjectWrapVersion(wrapped at v2) = %d, %v; want 2", v, err)
	}
	if got, err := c2.unwrapSubjectKey("fp", w); err != nil || !bytes.Equal(got, key) {
		t.Errorf("unwrapSubjectKey(wrapped at v2) = %x, %v; want the key", got, err)
	}

	legacy := c2.wrapUnder(c2.ring.First(), "fp", key)[4:]
	if v, err := c2.subjectWrapVersion(legacy); err != nil || v != 1 {
		t.Errorf("subjectWrapVersion(legacy) = %d, %v; want 1 (the first version)", v, err)
	}
	if got, err := c2.unwrapSubjectKey("fp", legacy); err != nil || !bytes.Equal(got, key) {
		t.Errorf("unwrapSubjectKey(legacy) = %x, %v; want the key", got, err)
	}

	atV1 := testClass(t, 1, 1).wrapSubjectKey("fp", key)
	if _, err := testClass(t, 2, 2).unwrapSubjectKey("fp", atV1); err == nil {
		t.Error("unwrapSubjectKey(wrapped under a retired version) = nil error, want one")
	}
	if _, err := c2.unwrapSubjectKey("other", w); err == nil {
		t.Error("unwrapSubjectKey(another subject's key) = nil error, want one")
	}
}
