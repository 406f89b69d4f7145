package format

import "fmt"

// charset is the set of characters a format transforms.
//
// If all letters of the alphabet have one case, the alphabet is case-folding:
// letters of the other case are transformed too and keep their case. To keep
// that exactly reversible, a folded position (e.g. an uppercase letter under
// "0-9a-z") only ever maps to a letter of the same case, while a base position
// maps to any alphabet character; so each position's case is the same in value
// and token and Decrypt can classify positions just like Encrypt did.
type charset struct {
	alphabet string     // base characters, passed to the Engine as is
	index    [256]int16 // byte → index in alphabet, or -1
	letters  string     // case-folding: the alphabet's letters, in alphabet order
	lindex   [256]int16 // case-folding: other-case letter byte → index in letters, or -1
}

var (
	digitCharset = mustCharset("0123456789")
	alnumCharset = mustCharset("0123456789abcdefghijklmnopqrstuvwxyz")
)

func mustCharset(alphabet string) *charset {
	cs, reason := newCharset(alphabet)
	if reason != "" {
		panic("format: bad built-in alphabet: " + reason)
	}
	return cs
}

// newCharset builds a charset, or returns why alphabet is unusable. ASCII only,
// so that byte and rune indexing agree for every Engine.
func newCharset(alphabet string) (*charset, string) {
	if len(alphabet) < 2 || len(alphabet) > 95 {
		return nil, fmt.Sprintf("must have 2 to 95 characters, got %d bytes", len(alphabet))
	}
	cs := &charset{alphabet: alphabet}
	for i := range cs.index {
		cs.index[i], cs.lindex[i] = -1, -1
	}
	var lower, upper bool
	for i := 0; i < len(alphabet); i++ {
		b := alphabet[i]
		if b < 0x20 || b > 0x7e {
			return nil, "must contain only printable ASCII characters"
		}
		if cs.index[b] >= 0 {
			return nil, fmt.Sprintf("character %q appears twice", b)
		}
		cs.index[b] = int16(i)
		lower = lower || isLower(b)
		upper = upper || isUpper(b)
	}
	if lower != upper { // case-folding
		var letters []byte
		for i := 0; i < len(alphabet); i++ {
			if b := alphabet[i]; isLower(b) || isUpper(b) {
				cs.lindex[swapCase(b)] = int16(len(letters))
				letters = append(letters, b)
			}
		}
		cs.letters = string(letters)
	}
	return cs, ""
}

// has reports whether b is transformed.
func (cs *charset) has(b byte) bool { return cs.index[b] >= 0 || cs.lindex[b] >= 0 }

// positions returns the indices of the bytes of buf that are transformed.
func (cs *charset) positions(buf []byte) []int {
	var pos []int
	for i, b := range buf {
		if cs.has(b) {
			pos = append(pos, i)
		}
	}
	return pos
}

// allBase reports whether value is non-empty and every byte of it is a
// base character of the alphabet.
func (cs *charset) allBase(value string) bool {
	for i := 0; i < len(value); i++ {
		if cs.index[value[i]] < 0 {
			return false
		}
	}
	return value != ""
}

// baseDomain is domain for n base characters.
func (cs *charset) baseDomain(n int) uint64 {
	v := uint64(1)
	for range n {
		if v *= uint64(len(cs.alphabet)); v >= MinDomain {
			return MinDomain
		}
	}
	return v
}

// radix returns how many characters a transformed byte b can map to.
func (cs *charset) radix(b byte) int {
	if cs.index[b] >= 0 {
		return len(cs.alphabet)
	}
	return len(cs.letters)
}

// domain returns the number of possible values of the bytes at pos, capped at
// MinDomain (all callers need is whether it reaches it).
func (cs *charset) domain(buf []byte, pos []int) uint64 {
	n := uint64(1)
	for _, p := range pos {
		if n *= uint64(cs.radix(buf[p])); n >= MinDomain {
			return MinDomain
		}
	}
	return n
}

// transform encrypts (or decrypts, per c) the bytes of buf at pos in place.
// Positions all of one class go to the Engine directly as one string; a mix of
// base and folded positions is one mixed-radix number (see mixedRadix).
func (cs *charset) transform(c cipher, buf []byte, pos []int) error {
	folded := 0
	for _, p := range pos {
		if cs.index[buf[p]] < 0 {
			folded++
		}
	}
	switch folded {
	case 0:
		return cs.direct(c, cs.alphabet, buf, pos, false)
	case len(pos):
		return cs.direct(c, cs.letters, buf, pos, true)
	}
	nums := make([]int, len(pos))
	radices := make([]int, len(pos))
	for i, p := range pos {
		if ix := cs.index[buf[p]]; ix >= 0 {
			nums[i], radices[i] = int(ix), len(cs.alphabet)
		} else {
			nums[i], radices[i] = int(cs.lindex[buf[p]]), len(cs.letters)
		}
	}
	if err := mixedRadix(c, nums, radices); err != nil {
		return err
	}
	for i, p := range pos {
		if cs.index[buf[p]] >= 0 { // class of the original byte
			buf[p] = cs.alphabet[nums[i]]
		} else {
			buf[p] = swapCase(cs.letters[nums[i]])
		}
	}
	return nil
}

// direct passes the bytes at pos to the Engine as one string over alphabet,
// swapping their case first and back afterwards if they are folded.
func (cs *charset) direct(c cipher, alphabet string, buf []byte, pos []int, folded bool) error {
	s := make([]byte, len(pos))
	for i, p := range pos {
		s[i] = buf[p]
		if folded {
			s[i] = swapCase(s[i])
		}
	}
	out, err := c.apply(alphabet, string(s))
	if err != nil {
		return err
	}
	for i, p := range pos {
		b := out[i]
		if folded {
			b = swapCase(b)
		}
		buf[p] = b
	}
	return nil
}

func isLower(b byte) bool { return 'a' <= b && b <= 'z' }
func isUpper(b byte) bool { return 'A' <= b && b <= 'Z' }
func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func swapCase(b byte) byte {
	if isLower(b) || isUpper(b) {
		return b ^ 0x20
	}
	return b
}
