package format

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// checkText applies the checks every format shares.
func checkText(name, value string) error {
	switch {
	case value == "":
		return valueError(name, "value is empty")
	case len(value) > MaxValueLen:
		return valueError(name, fmt.Sprintf("value is %d bytes, want at most %d", len(value), MaxValueLen))
	case !utf8.ValidString(value):
		return valueError(name, "value is not valid UTF-8")
	}
	return nil
}

// checkDomain returns ErrDomainTooSmall if size (capped at MinDomain) is below
// MinDomain; n and noun describe the transformable part, e.g. 5 "digits".
func checkDomain(name string, n int, noun string, size uint64) error {
	if size >= MinDomain {
		return nil
	}
	return domainError(name, fmt.Sprintf("value has %d %s to transform (%d possible values), want at least %d possible values",
		n, noun, size, MinDomain))
}

// pow10 returns 10^n capped at MinDomain.
func pow10(n int) uint64 {
	v := uint64(1)
	for range n {
		if v *= 10; v >= MinDomain {
			return MinDomain
		}
	}
	return v
}

// mask returns value with the bytes at pos (ascending) replaced by maskChar,
// except the first keepFirst and the last keepLast of them.
func mask(value string, pos []int, keepFirst, keepLast int, maskChar string) string {
	var b strings.Builder
	b.Grow(len(value) + len(pos)*(len(maskChar)-1))
	j := 0
	for i := 0; i < len(value); i++ {
		if j < len(pos) && pos[j] == i {
			if j >= keepFirst && j < len(pos)-keepLast {
				b.WriteString(maskChar)
			} else {
				b.WriteByte(value[i])
			}
			j++
			continue
		}
		b.WriteByte(value[i])
	}
	return b.String()
}

// maskTail is the Mask rule of the formats without a rule of their own: keep
// the last 4 transformable characters if there are at least 8, else hide all.
func maskTail(value string, pos []int, maskChar string) string {
	keep := 0
	if len(pos) >= 8 {
		keep = 4
	}
	return mask(value, pos, 0, keep, maskChar)
}
