package format

import (
	"errors"
	"sort"
	"strings"
	"testing"
)

var phoneSpec = Spec{Name: NamePhone}

func TestPhoneEncrypt(t *testing.T) {
	tests := []struct {
		e            Engine
		value, token string
	}{
		{shift, "+1 (555) 010-9999", "+1 (643) 264-2587"},
		{shift, "+420 123 456 789", "+420 211 600 048"},
		{feistel, "+1 (555) 010-9999", "+1 (270) 525-6055"},
		{feistel, "+44 20 7946 0958", "+44 51 5881 7914"},
		{feistel, "+7 912 345-67-89", "+7 245 089-79-04"},
		{feistel, "+4915112345678", "+4910929413971"},
		{feistel, "+33 1 23 45 67 89", "+33 4 07 77 82 84"},
		{feistel, "+91-98765-43210", "+91-89240-57624"},
		{feistel, "+852 2123 4567", "+852 5355 3433"},
	}
	f := mustNew(t, phoneSpec)
	for _, tt := range tests {
		got, err := f.Encrypt(tt.e, tweak, tt.value)
		if err != nil || got != tt.token {
			t.Errorf("Encrypt(%q) = %q, %v; want %q", tt.value, got, err, tt.token)
		}
		back, err := f.Decrypt(tt.e, tweak, tt.token)
		if err != nil || back != tt.value {
			t.Errorf("Decrypt(%q) = %q, %v; want %q", tt.token, back, err, tt.value)
		}
	}
}

func TestPhoneMask(t *testing.T) {
	tests := []struct {
		value, masked string
	}{
		{"+447911123789", "+44*******789"},
		{"+44 20 7946 0958", "+44 ** **** *958"},
		{"+1 (555) 010-9999", "+1 (***) ***-*999"},
		{"+420 12 345 6", "+420 ** **5 6"}, // 6 national digits: the last 2 stay
	}
	f := mustNew(t, phoneSpec)
	for _, tt := range tests {
		got, err := f.Mask(tt.value)
		if err != nil || got != tt.masked {
			t.Errorf("Mask(%q) = %q, %v; want %q", tt.value, got, err, tt.masked)
		}
	}
}

func TestPhoneInvalid(t *testing.T) {
	tests := []struct {
		value string
		want  error
	}{
		{"15550109999", ErrInvalidValue},           // no '+'
		{"+ 1 555 010 9999", ErrInvalidValue},      // no digit after '+'
		{"+1 555.010.9999", ErrInvalidValue},       // dots
		{"+1555010", ErrInvalidValue},              // 7 digits
		{"+1234567890123456", ErrInvalidValue},     // 16 digits
		{"+0 555 010 9999", ErrInvalidValue},       // no such country code
		{"+2 855 501 0999", ErrInvalidValue},       // "2", "28", "285" are unassigned
		{"+420 123 45", ErrDomainTooSmall},         // 5 national digits
		{"+1 (555) 010-9999 ext", ErrInvalidValue}, // letters
	}
	f := mustNew(t, phoneSpec)
	for _, tt := range tests {
		_, err := f.Encrypt(feistel, tweak, tt.value)
		if !errors.Is(err, tt.want) {
			t.Errorf("Encrypt(%q) error = %v, want %v", tt.value, err, tt.want)
		}
	}
}

// TestCallingCodesPrefixFree checks the table: no code is a prefix of another,
// so the longest match is the only match.
func TestCallingCodesPrefixFree(t *testing.T) {
	codes := make([]string, 0, len(callingCodes))
	for c := range callingCodes {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for i := 1; i < len(codes); i++ {
		if strings.HasPrefix(codes[i], codes[i-1]) {
			t.Errorf("calling code %s is a prefix of %s", codes[i-1], codes[i])
		}
	}
}

func TestPhoneRoundTrip(t *testing.T) {
	codes := make([]string, 0, len(callingCodes))
	for c := range callingCodes {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	f := mustNew(t, phoneSpec)
	for _, eng := range roundTripEngines {
		r := newRand()
		for range eng.n {
			cc := codes[r.IntN(len(codes))]
			national := randString(r, decimal, max(6, 8-len(cc))+r.IntN(16-len(cc)-max(6, 8-len(cc))))
			value := "+" + cc + " " + national[:2] + "-" + national[2:]
			token := roundTrip(t, f, eng.e, value)
			transformed := func(i int) bool { return i > len(cc) && isDigit(value[i]) }
			if !sameOutside(value, token, transformed) || f.Validate(token) != nil {
				t.Fatalf("Encrypt(%q) = %q: not a phone number with the kept characters in place", value, token)
			}
			if eng.distinct && token == value {
				t.Errorf("Encrypt(%q) = the value", value)
			}
		}
	}
}
