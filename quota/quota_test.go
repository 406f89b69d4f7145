package quota_test

import (
	"testing"
	"time"

	"github.com/privacyvault/privacyvault/policy"
	"github.com/privacyvault/privacyvault/quota"
)

func TestTakeSeveralWindows(t *testing.T) {
	limits := []policy.Limit{{Per: time.Second, Max: 3}, {Per: time.Hour, Max: 5}}
	base := time.Unix(1700000000, 0)
	tests := []struct {
		at   time.Duration
		n    int
		want bool
	}{
		{0, 2, true},
		{100 * time.Millisecond, 1, true},
		{200 * time.Millisecond, 1, false}, // 4 > 3 per second
		{time.Second, 2, true},             // new second; 5 this hour
		{2 * time.Second, 1, false},        // 6 > 5 per hour
		{time.Hour, 3, true},               // new hour
	}
	l := quota.New()
	for _, tt := range tests {
		if _, ok := l.Take("support", "customer-support", tt.n, limits, base.Add(tt.at)); ok != tt.want {
			t.Errorf("Take(n=%d at +%v) = %v, want %v", tt.n, tt.at, ok, tt.want)
		}
	}
}

func TestTakeSeparatesCallers(t *testing.T) {
	limits := []policy.Limit{{Per: time.Minute, Max: 1}}
	now := time.Unix(1700000000, 0)
	l := quota.New()
	if _, ok := l.Take("a", "p", 1, limits, now); !ok {
		t.Fatal("Take(a) = false, want true")
	}
	if _, ok := l.Take("b", "p", 1, limits, now); !ok {
		t.Error("Take(b) after a used its quota = false, want true (separate identities)")
	}
	if _, ok := l.Take("a", "q", 1, limits, now); !ok {
		t.Error("Take(a, other purpose) = false, want true (separate purposes)")
	}
	if lim, ok := l.Take("a", "p", 1, limits, now); ok || lim.Max != 1 {
		t.Errorf("Take(a, p) again = %v, %v; want the 1/min limit exceeded", lim, ok)
	}
	if _, ok := l.Take("a", "p", 5, nil, now); !ok {
		t.Error("Take(no limits) = false, want true")
	}
}
