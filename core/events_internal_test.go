package core

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestAddRunFoldsAsAdd: folding runs of items of one class and subject
// gives the events that folding them one by one gives: counts, decisions
// (allow, deny, partial) and fingerprints in item order.
func TestAddRunFoldsAsAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		n := 1 + r.IntN(300)
		failEvery := []int{0, 5, 1}[r.IntN(3)] // none fails (allow), some (partial), all (deny)
		classes, subjects := make([]string, n), make([]string, n)
		res, fps := make([]TokenResult, n), make([]string, n)
		for i := range n {
			classes[i], subjects[i] = fmt.Sprint("c", r.IntN(2)), []string{"", "s1"}[r.IntN(2)]
			if i > 0 && r.IntN(4) > 0 { // runs, as batches have them
				classes[i], subjects[i] = classes[i-1], subjects[i-1]
			}
			if failEvery > 0 && r.IntN(failEvery) == 0 {
				res[i].Err = errors.New("refused")
			} else {
				res[i].Token, fps[i] = fmt.Sprint("t", i), fmt.Sprint("fp", i)
			}
		}
		one, runs := events{hint: n}, events{hint: n}
		base := AuditEvent{Caller: "app", Op: "tokenize"}
		for i := range n {
			base.Class = classes[i]
			one.add(&base, subjects[i], res[i].Err == nil, fps[i])
		}
		for i := 0; i < n; {
			base.Class = classes[i]
			j := i + 1
			for j < n && classes[j] == classes[i] && subjects[j] == subjects[i] {
				j++
			}
			runs.addRun(&base, subjects[i], res[i:j], fps[i:j])
			i = j
		}
		if got, want := runs.list(), one.list(); !reflect.DeepEqual(got, want) {
			t.Fatalf("events folded by runs = %+v,\nitem by item %+v", got, want)
		}
	}
}
