package main

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

func TestVersionCmd(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"version"}, nil, &out, &errb); code != 0 {
		t.Fatalf("version exit = %d, stderr %q", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), "privacyvault ") || !strings.Contains(out.String(), runtime.Version()) {
		t.Errorf("version = %q, want privacyvault VERSION (... %s)", out.String(), runtime.Version())
	}
	out.Reset()
	if code := run(context.Background(), []string{"version", "--json"}, nil, &out, &errb); code != 0 {
		t.Fatalf("version --json exit = %d", code)
	}
	var v struct{ Version, Go string }
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v.Version == "" || v.Go != runtime.Version() {
		t.Errorf("version --json = %q (%v), want version and go fields", out.String(), err)
	}
}
