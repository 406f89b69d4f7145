package format

import (
	"math/big"
	"strings"
)

const decimal = "0123456789"

// mixedRadix transforms, in place, numerals nums where nums[i] < radices[i].
//
// FF1 needs one radix for the whole string, so the numerals are read as one
// mixed-radix number X in [0, N), N = Π radices, written as a fixed-width
// decimal string (10^width ≥ N ≥ MinDomain) and cycle-walked with the Engine
// until the result is below N again. N > 10^(width-1), so a walk takes fewer
// than 10 steps on average.
func mixedRadix(c cipher, nums, radices []int) error {
	n := big.NewInt(1)
	x := new(big.Int)
	for i, r := range radices {
		br := big.NewInt(int64(r))
		n.Mul(n, br)
		x.Mul(x, br).Add(x, big.NewInt(int64(nums[i])))
	}
	width := len(new(big.Int).Sub(n, big.NewInt(1)).String())
	y := new(big.Int)
	below := func(s string) bool {
		y.SetString(s, 10)
		return y.Cmp(n) < 0
	}
	step := func(s string) (string, error) { return c.apply(decimal, s) }
	out, err := walk(c.name, step, leftPad(x.String(), width), below)
	if err != nil {
		return err
	}
	y.SetString(out, 10)
	r := new(big.Int)
	for i := len(radices) - 1; i >= 0; i-- {
		y.QuoRem(y, big.NewInt(int64(radices[i])), r)
		nums[i] = int(r.Int64())
	}
	return nil
}

// leftPad left-pads the decimal string s with zeros to width.
func leftPad(s string, width int) string {
	if len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + s
}
