package audit

import (
	"strings"
	"testing"
)

func TestIsFingerprint(t *testing.T) {
	fp := strings.Repeat("0123456789abcdef", 2)
	tests := []struct {
		s    string
		want bool
	}{
		{fp, true},
		{strings.Repeat("f", 32), true},
		{strings.ToUpper(fp), false},
		{fp[:31] + "g", false},
		{fp[:31] + "/", false}, // '0' - 1
		{fp[:31] + ":", false}, // '9' + 1
		{fp[:31] + "`", false}, // 'a' - 1
		{"\xff" + fp[1:], false},
		{fp[:31], false},
		{fp + "0", false},
	}
	for _, tt := range tests {
		if got := isFingerprint(tt.s); got != tt.want {
			t.Errorf("isFingerprint(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}
