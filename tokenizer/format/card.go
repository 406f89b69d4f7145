package format

import (
	"bytes"
	"fmt"
	"strings"
)

// Card number lengths accepted by credit_card (ISO/IEC 7812 PANs).
const (
	cardMinDigits = 12
	cardMaxDigits = 19
	cardMinMiddle = 6 // 10^6 = MinDomain
)

// card implements credit_card: 12 to 19 digits with spaces or dashes, passing
// Luhn. The first keepFirst and last keepLast digits are kept; the digits
// between them (the middle) are transformed so that the token passes Luhn too
// and never equals the value:
//
//   - keepLast == 0: the middle excludes the check digit, which is recomputed.
//   - keepLast > 0: the check digit is kept, so the middle is cycle-walked over
//     the middles that make the whole number pass Luhn (one in ten).
//
// Either way a derangement (see derangement) over those middles rules out
// token == value exactly, including for fixed points of the cipher. Note that
// with the check digit kept, k middle digits have only 10^(k-1) possible
// tokens (Luhn fixes one digit), e.g. 10^5 for BIN-6 + last-4 on 16 digits,
// although every Engine call is over 10^k ≥ MinDomain strings.
type card struct {
	keepFirst, keepLast int
	maskChar            string
}

func newCard(spec Spec, maskChar string) (Format, error) {
	kf, kl := spec.KeepFirst, spec.KeepLast
	maxKeep := cardMaxDigits - 1 - cardMinMiddle
	if kf < 0 || kf > maxKeep {
		return nil, specError(spec.Name, "keep_first", fmt.Sprintf("must be between 0 and %d, got %d", maxKeep, kf))
	}
	if kl < 0 || kl > maxKeep {
		return nil, specError(spec.Name, "keep_last", fmt.Sprintf("must be between 0 and %d, got %d", maxKeep, kl))
	}
	// The check digit is never encrypted, so it counts as kept.
	if cardMaxDigits-kf-max(kl, 1) < cardMinMiddle {
		return nil, specError(spec.Name, "keep_last", fmt.Sprintf(
			"keep_first %d and keep_last %d leave fewer than %d digits to transform even in a %d-digit card",
			kf, kl, cardMinMiddle, cardMaxDigits))
	}
	return &card{keepFirst: kf, keepLast: kl, maskChar: maskChar}, nil
}

// Name implements Format.
func (f *card) Name() string { return NameCreditCard }

// parse returns the digits of value and their positions in it.
// parse appends the digits of value to d and their indexes to pos. Callers
// pass buffers of cardMaxDigits on their stack, so a valid card needs no
// allocation here.
func (f *card) parse(value string, d []byte, pos []int) ([]byte, []int, error) {
	if err := checkText(NameCreditCard, value); err != nil {
		return nil, nil, err
	}
	for i := 0; i < len(value); i++ {
		switch b := value[i]; {
		case isDigit(b):
			d = append(d, b)
			pos = append(pos, i)
		case b != ' ' && b != '-':
			return nil, nil, valueError(NameCreditCard, "value contains characters other than digits, spaces and dashes")
		}
	}
	switch {
	case !isDigit(value[0]) || !isDigit(value[len(value)-1]):
		return nil, nil, valueError(NameCreditCard, "value must start and end with a digit")
	case len(d) < cardMinDigits || len(d) > cardMaxDigits:
		return nil, nil, valueError(NameCreditCard, fmt.Sprintf("value has %d digits, want %d to %d", len(d), cardMinDigits, cardMaxDigits))
	case !luhnValid(d):
		return nil, nil, valueError(NameCreditCard, "value fails the Luhn check")
	}
	return d, pos, nil
}

// middle returns the bounds d[lo:hi] of the transformed digits, or
// ErrDomainTooSmall if there are fewer than cardMinMiddle.
func (f *card) middle(d []byte) (lo, hi int, err error) {
	lo, hi = f.keepFirst, len(d)-f.keepLast
	if f.keepLast == 0 {
		hi-- // the check digit is recomputed, not encrypted
	}
	n := max(hi-lo, 0)
	return lo, hi, checkDomain(NameCreditCard, n, "digits", pow10(n))
}

// Validate implements Format.
func (f *card) Validate(value string) error {
	var db [cardMaxDigits]byte
	var pb [cardMaxDigits]int
	d, _, err := f.parse(value, db[:0], pb[:0])
	if err == nil {
		_, _, err = f.middle(d)
	}
	return err
}

// Encrypt implements Format.
func (f *card) Encrypt(e Engine, tweak []byte, value string) (string, error) {
	return f.transform(e, tweak, value, false)
}

// Decrypt implements Format.
func (f *card) Decrypt(e Engine, tweak []byte, token string) (string, error) {
	return f.transform(e, tweak, token, true)
}

func (f *card) transform(e Engine, tweak []byte, value string, decrypt bool) (string, error) {
	var db [cardMaxDigits]byte
	var pb [cardMaxDigits]int
	d, pos, err := f.parse(value, db[:0], pb[:0])
	if err != nil {
		return "", err
	}
	lo, hi, err := f.middle(d)
	if err != nil {
		return "", err
	}
	c, err := newCipher(NameCreditCard, e, tweak, decrypt)
	if err != nil {
		return "", err
	}
	der := f.derangement(c, d, lo, hi)
	mid := string(d[lo:hi])
	if decrypt {
		mid, err = der.decrypt(mid)
	} else {
		mid, err = der.encrypt(mid)
	}
	if err != nil {
		return "", err
	}
	copy(d[lo:hi], mid)
	if f.keepLast == 0 {
		d[len(d)-1] = luhnCheckDigit(d[:len(d)-1])
	}
	// value with its digits replaced, built in one allocation.
	var out strings.Builder
	out.Grow(len(value))
	last := 0
	for i, p := range pos {
		out.WriteString(value[last:p])
		out.WriteByte(d[i])
		last = p + 1
	}
	out.WriteString(value[last:])
	return out.String(), nil
}

// derangement returns the fixed-point-free permutation of the middles of d.
func (f *card) derangement(c cipher, d []byte, lo, hi int) derangement {
	fwd := func(s string) (string, error) { return c.fwd(decimal, s) }
	inv := func(s string) (string, error) { return c.inv(decimal, s) }
	if f.keepLast == 0 {
		// Every middle is valid: the check digit is recomputed afterwards.
		return derangement{name: NameCreditCard, perm: fwd, inv: inv, next: increment, prev: decrement}
	}
	scratch := bytes.Clone(d)
	valid := func(m string) bool {
		copy(scratch[lo:hi], m)
		return luhnValid(scratch)
	}
	// Varying the last middle digit hits every Luhn residue, so next and prev
	// find a valid middle within 19 steps.
	step := func(m string, move func(string) string) string {
		for {
			if m = move(m); valid(m) {
				return m
			}
		}
	}
	return derangement{
		name: NameCreditCard,
		perm: func(m string) (string, error) { return walk(NameCreditCard, fwd, m, valid) },
		inv:  func(m string) (string, error) { return walk(NameCreditCard, inv, m, valid) },
		next: func(m string) string { return step(m, increment) },
		prev: func(m string) string { return step(m, decrement) },
	}
}

// Mask implements Format: the last 4 digits and the first keep_first digits
// stay, but at least 6 digits are always hidden (on short cards fewer leading
// digits are shown), e.g. "4111-11**-****-1111".
func (f *card) Mask(value string) (string, error) {
	var db [cardMaxDigits]byte
	var pb [cardMaxDigits]int
	d, pos, err := f.parse(value, db[:0], pb[:0])
	if err != nil {
		return "", err
	}
	const last, minHidden = 4, 6
	first := min(f.keepFirst, len(d)-last-minHidden)
	return mask(value, pos, first, last, f.maskChar), nil
}
