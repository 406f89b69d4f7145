package format

// walk is cycle-walking: it applies step to x until the result satisfies ok.
// If step is a permutation and ok(x) holds, the result is the next element of
// x's cycle that satisfies ok, so walking with the inverse permutation undoes it
// exactly; with a real cipher that is reached in a few steps, and MaxWalk only
// guards against a broken Engine.
func walk(name string, step func(string) (string, error), x string, ok func(string) bool) (string, error) {
	y := x
	for range MaxWalk {
		var err error
		if y, err = step(y); err != nil {
			return "", err
		}
		if ok(y) {
			return y, nil
		}
	}
	return "", walkError(name)
}
