package format

import "fmt"

// Limits of phone values: E.164 allows at most 15 digits; 8 is the shortest
// this format accepts; the byte limit leaves room for separators.
const (
	phoneMinDigits = 8
	phoneMaxDigits = 15
	phoneMaxBytes  = 40
)

// phone implements phone: an E.164 number, "+" then 8 to 15 digits, with
// spaces, dashes and parentheses allowed as separators. The country calling
// code (longest match in callingCodes) is kept, the national digits are
// transformed, separators stay in place. National numbering plans are not
// checked, so a token may be unassigned or unroutable in its country.
type phone struct {
	maskChar string
}

// Name implements Format.
func (f *phone) Name() string { return NamePhone }

// parse returns a copy of value, the positions of all its digits (appended
// to pos: callers pass an array of phoneMaxBytes on their stack) and the
// number of leading digits that form the country code.
func (f *phone) parse(value string, pos []int) (buf []byte, _ []int, ccLen int, err error) {
	if err := checkText(NamePhone, value); err != nil {
		return nil, nil, 0, err
	}
	if len(value) > phoneMaxBytes {
		return nil, nil, 0, valueError(NamePhone, fmt.Sprintf("value is %d bytes, want at most %d", len(value), phoneMaxBytes))
	}
	if len(value) < 2 || value[0] != '+' || !isDigit(value[1]) {
		return nil, nil, 0, valueError(NamePhone, "value must start with '+' and the country calling code")
	}
	buf = []byte(value)
	var db [phoneMaxBytes]byte
	digits := db[:0]
	for i := 1; i < len(buf); i++ {
		switch b := buf[i]; {
		case isDigit(b):
			pos = append(pos, i)
			digits = append(digits, b)
		case b != ' ' && b != '-' && b != '(' && b != ')':
			return nil, nil, 0, valueError(NamePhone, "value contains characters other than digits, spaces, dashes and parentheses after '+'")
		}
	}
	if len(digits) < phoneMinDigits || len(digits) > phoneMaxDigits {
		return nil, nil, 0, valueError(NamePhone, fmt.Sprintf("value has %d digits, want %d to %d", len(digits), phoneMinDigits, phoneMaxDigits))
	}
	if ccLen = callingCodeLen(digits); ccLen == 0 {
		return nil, nil, 0, valueError(NamePhone, "value does not start with a known country calling code")
	}
	return buf, pos, ccLen, nil
}

func (f *phone) parseDomain(value string, pos []int) ([]byte, []int, error) {
	buf, pos, ccLen, err := f.parse(value, pos)
	if err != nil {
		return nil, nil, err
	}
	national := pos[ccLen:]
	if err := checkDomain(NamePhone, len(national), "national digits", pow10(len(national))); err != nil {
		return nil, nil, err
	}
	return buf, national, nil
}

// Validate implements Format.
func (f *phone) Validate(value string) error {
	var pb [phoneMaxBytes]int
	_, _, err := f.parseDomain(value, pb[:0])
	return err
}

// Encrypt implements Format.
func (f *phone) Encrypt(e Engine, tweak []byte, value string) (string, error) {
	return f.transform(e, tweak, value, false)
}

// Decrypt implements Format.
func (f *phone) Decrypt(e Engine, tweak []byte, token string) (string, error) {
	return f.transform(e, tweak, token, true)
}

func (f *phone) transform(e Engine, tweak []byte, value string, decrypt bool) (string, error) {
	var pb [phoneMaxBytes]int
	buf, national, err := f.parseDomain(value, pb[:0])
	if err != nil {
		return "", err
	}
	return transformAt(NamePhone, digitCharset, e, tweak, decrypt, buf, national)
}

// Mask implements Format: the country code and the last 3 national digits
// (2 if there are fewer than 7) stay, e.g. "+44 ** **** *958".
func (f *phone) Mask(value string) (string, error) {
	var pb [phoneMaxBytes]int
	_, pos, ccLen, err := f.parse(value, pb[:0])
	if err != nil {
		return "", err
	}
	keep := 3
	if len(pos)-ccLen < 7 {
		keep = 2
	}
	return mask(value, pos, ccLen, keep, f.maskChar), nil
}
