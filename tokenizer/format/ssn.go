package format

import "fmt"

const (
	// ssnMaxKeepLast is the most trailing digits ssn can keep: keeping 4
	// would leave 5 digits, 10^5 < MinDomain values.
	ssnMaxKeepLast = 3
	// ssnMaxLen is the length of "ddd-dd-dddd".
	ssnMaxLen = 11
)

// ssn implements ssn: a US Social Security number as "ddd-dd-dddd" or 9
// digits. The digits except the last keepLast are transformed; dashes stay.
// The SSA's structural rules (no area 000, 666 or 9xx, …) are not applied, to
// values or tokens.
type ssn struct {
	keepLast int
	maskChar string
}

func newSSN(spec Spec, maskChar string) (Format, error) {
	switch kl := spec.KeepLast; {
	case kl == 4:
		return nil, specError(spec.Name, "keep_last", fmt.Sprintf(
			"keeping 4 digits leaves 5 to transform (100000 possible values), below the minimum of %d; use at most %d",
			MinDomain, ssnMaxKeepLast))
	case kl < 0 || kl > ssnMaxKeepLast:
		return nil, specError(spec.Name, "keep_last", fmt.Sprintf("must be between 0 and %d, got %d", ssnMaxKeepLast, kl))
	}
	return &ssn{keepLast: spec.KeepLast, maskChar: maskChar}, nil
}

// Name implements Format.
func (f *ssn) Name() string { return NameSSN }

// parse returns a copy of value and the positions of its 9 digits,
// appended to pos (callers pass an array of ssnMaxLen on their stack).
func (f *ssn) parse(value string, pos []int) ([]byte, []int, error) {
	if err := checkText(NameSSN, value); err != nil {
		return nil, nil, err
	}
	dashed := len(value) == 11 && value[3] == '-' && value[6] == '-'
	if !dashed && len(value) != 9 {
		return nil, nil, valueError(NameSSN, "value must be 9 digits, optionally as ddd-dd-dddd")
	}
	buf := []byte(value)
	for i, b := range buf {
		switch {
		case isDigit(b):
			pos = append(pos, i)
		case !dashed || (i != 3 && i != 6):
			return nil, nil, valueError(NameSSN, "value must be 9 digits, optionally as ddd-dd-dddd")
		}
	}
	return buf, pos, nil
}

// Validate implements Format.
func (f *ssn) Validate(value string) error {
	var pb [ssnMaxLen]int
	_, _, err := f.parse(value, pb[:0])
	return err
}

// Encrypt implements Format.
func (f *ssn) Encrypt(e Engine, tweak []byte, value string) (string, error) {
	return f.transform(e, tweak, value, false)
}

// Decrypt implements Format.
func (f *ssn) Decrypt(e Engine, tweak []byte, token string) (string, error) {
	return f.transform(e, tweak, token, true)
}

func (f *ssn) transform(e Engine, tweak []byte, value string, decrypt bool) (string, error) {
	var pb [ssnMaxLen]int
	buf, pos, err := f.parse(value, pb[:0])
	if err != nil {
		return "", err
	}
	return transformAt(NameSSN, digitCharset, e, tweak, decrypt, buf, pos[:len(pos)-f.keepLast])
}

// Mask implements Format: only the last 4 digits stay, e.g. "***-**-6789".
func (f *ssn) Mask(value string) (string, error) {
	var pb [ssnMaxLen]int
	_, pos, err := f.parse(value, pb[:0])
	if err != nil {
		return "", err
	}
	return mask(value, pos, 0, 4, f.maskChar), nil
}
