package format

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestDerangementExhaustive checks the derangement over all 100 two-digit
// strings for many permutations with fixed points placed at random, in runs,
// across the wrap-around and everywhere: it must be a bijection without fixed
// points that decrypt inverts.
func TestDerangementExhaustive(t *testing.T) {
	tests := []struct {
		name  string
		fixed []int // fixed points forced into a random permutation
	}{
		{"none forced", nil},
		{"one", []int{42}},
		{"run", []int{10, 11, 12}},
		{"wrap-around run", []int{98, 99, 0, 1}},
		{"two runs", []int{5, 6, 8, 9}},
		{"all but two", allBut(100, 3, 70)},
		{"all", allBut(100)},
	}
	r := newRand()
	for _, tt := range tests {
		for trial := range 50 {
			perm := permWithFixed(r, 100, tt.fixed)
			d := mapDerangement(perm)
			seen := map[string]bool{}
			for x := range 100 {
				s := fmt.Sprintf("%02d", x)
				y, err := d.encrypt(s)
				if err != nil || y == s || seen[y] {
					t.Fatalf("%s/%d: encrypt(%q) = %q, %v: a fixed point, a repeat or an error", tt.name, trial, s, y, err)
				}
				seen[y] = true
				back, err := d.decrypt(y)
				if err != nil || back != s {
					t.Fatalf("%s/%d: decrypt(%q) = %q, %v; want %q", tt.name, trial, y, back, err, s)
				}
			}
		}
	}
}

// TestDerangementOneWay checks that encrypt never evaluates the inverse.
func TestDerangementOneWay(t *testing.T) {
	d := mapDerangement(permWithFixed(newRand(), 100, []int{1, 2, 3}))
	d.inv = func(string) (string, error) { return "", errors.New("inverse called") }
	for x := range 100 {
		s := fmt.Sprintf("%02d", x)
		if _, err := d.encrypt(s); err != nil {
			t.Fatalf("encrypt(%q): %v", s, err)
		}
	}
}

// TestDerangementRunLimit checks that a run of fixed points longer than
// MaxWalk is reported instead of walked.
func TestDerangementRunLimit(t *testing.T) {
	perm := make([]int, 10000)
	for i := range perm {
		perm[i] = i // 0000-2999 stay fixed
	}
	for i := 3000; i < len(perm); i++ {
		perm[i] = 3000 + (i-3000+1)%7000
	}
	d := mapDerangement(perm)
	_, encErr := d.encrypt("3000") // follows the run 0000-2999
	_, decErr := d.decrypt("0000") // the run's first element
	if !errors.Is(encErr, ErrCycleWalk) || !errors.Is(decErr, ErrCycleWalk) {
		t.Errorf("encrypt, decrypt errors = %v, %v; want ErrCycleWalk", encErr, decErr)
	}
}

// TestDerangementNotPermutation checks that a one-way function mapping a
// fixed point's successor back onto it cannot make a token equal its value.
func TestDerangementNotPermutation(t *testing.T) {
	perm := make([]int, 100)
	for i := range perm {
		perm[i] = (i + 1) % 100
	}
	perm[41], perm[42] = 41, 41 // 41 is fixed and 42, its successor, maps to 41
	_, err := mapDerangement(perm).encrypt("41")
	if !errors.Is(err, ErrEngine) {
		t.Errorf("encrypt(%q) error = %v, want ErrEngine", "41", err)
	}
}

func allBut(n int, except ...int) []int {
	skip := map[int]bool{}
	for _, e := range except {
		skip[e] = true
	}
	var out []int
	for i := range n {
		if !skip[i] {
			out = append(out, i)
		}
	}
	return out
}

// permWithFixed returns a random permutation of [0, n) that fixes the given
// points (and possibly others by chance).
func permWithFixed(r *rand.Rand, n int, fixed []int) []int {
	isFixed := map[int]bool{}
	for _, f := range fixed {
		isFixed[f] = true
	}
	var rest []int
	for i := range n {
		if !isFixed[i] {
			rest = append(rest, i)
		}
	}
	shuffled := append([]int{}, rest...)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i, x := range rest {
		p[x] = shuffled[i]
	}
	return p
}

// mapDerangement builds a derangement from perm over the decimal strings of
// len(perm) values (two digits for 100, four for 10000).
func mapDerangement(perm []int) derangement {
	width := len(fmt.Sprint(len(perm) - 1))
	inv := make([]int, len(perm))
	for x, y := range perm {
		inv[y] = x
	}
	lookup := func(table []int) func(string) (string, error) {
		return func(s string) (string, error) {
			var x int
			fmt.Sscanf(s, "%d", &x)
			return fmt.Sprintf("%0*d", width, table[x]), nil
		}
	}
	return derangement{name: "test", perm: lookup(perm), inv: lookup(inv), next: increment, prev: decrement}
}
