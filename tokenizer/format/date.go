package format

import (
	"fmt"
	"strconv"
	"time"
)

// date implements date: an ISO 8601 calendar date "YYYY-MM-DD" between
// 0001-01-01 and 9999-12-31 (proleptic Gregorian).
//
// A date is its day number in that range, 0 to 3,652,058, which already has
// more than MinDomain values (a 1900–2099 range would have only 73,049). The
// day number is written as 7 decimal digits and cycle-walked with the Engine
// until it is below 3,652,059 again (about 2.7 steps on average), so the token
// is always a valid date and Decrypt is exact. Tokens are uniform over the
// whole range, so a birth date may become e.g. "6314-08-27"; the token can
// equal the value with probability about 1 in 3.65 million.
type date struct {
	maskChar string
}

var (
	dateEpoch = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	dateDays  = (time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix()-dateEpoch)/86400 + 1
)

const dateWidth = 7 // decimal digits of a day number; 10^7 ≥ dateDays

// Name implements Format.
func (f *date) Name() string { return NameDate }

// parse returns the day number of value.
func (f *date) parse(value string) (int64, error) {
	if err := checkText(NameDate, value); err != nil {
		return 0, err
	}
	if len(value) != 10 || value[4] != '-' || value[7] != '-' {
		return 0, valueError(NameDate, "value must be a date as YYYY-MM-DD")
	}
	for i := 0; i < len(value); i++ {
		if i != 4 && i != 7 && !isDigit(value[i]) {
			return 0, valueError(NameDate, "value must be a date as YYYY-MM-DD")
		}
	}
	y, _ := strconv.Atoi(value[:4])
	m, _ := strconv.Atoi(value[5:7])
	d, _ := strconv.Atoi(value[8:])
	switch {
	case y < 1:
		return 0, valueError(NameDate, "year must be between 0001 and 9999")
	case m < 1 || m > 12:
		return 0, valueError(NameDate, "month must be between 01 and 12")
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if d < 1 || t.Day() != d {
		return 0, valueError(NameDate, "day is out of range for its month")
	}
	return (t.Unix() - dateEpoch) / 86400, nil
}

// formatDay returns the date of day number n.
func formatDay(n int64) string {
	t := time.Unix(dateEpoch+n*86400, 0).UTC()
	return fmt.Sprintf("%04d-%02d-%02d", t.Year(), int(t.Month()), t.Day())
}

// Validate implements Format.
func (f *date) Validate(value string) error {
	_, err := f.parse(value)
	return err
}

// Encrypt implements Format.
func (f *date) Encrypt(e Engine, tweak []byte, value string) (string, error) {
	return f.transform(e, tweak, value, false)
}

// Decrypt implements Format.
func (f *date) Decrypt(e Engine, tweak []byte, token string) (string, error) {
	return f.transform(e, tweak, token, true)
}

func (f *date) transform(e Engine, tweak []byte, value string, decrypt bool) (string, error) {
	n, err := f.parse(value)
	if err != nil {
		return "", err
	}
	c, err := newCipher(NameDate, e, tweak, decrypt)
	if err != nil {
		return "", err
	}
	inRange := func(s string) bool {
		v, _ := strconv.ParseInt(s, 10, 64)
		return v < dateDays
	}
	step := func(s string) (string, error) { return c.apply(decimal, s) }
	out, err := walk(NameDate, step, fmt.Sprintf("%0*d", dateWidth, n), inRange)
	if err != nil {
		return "", err
	}
	v, _ := strconv.ParseInt(out, 10, 64)
	return formatDay(v), nil
}

// Mask implements Format with the default rule: the last 4 digits stay, e.g.
// "****-03-15".
func (f *date) Mask(value string) (string, error) {
	if _, err := f.parse(value); err != nil {
		return "", err
	}
	return maskTail(value, []int{0, 1, 2, 3, 5, 6, 8, 9}, f.maskChar), nil
}
