package format

import (
	"errors"
	"testing"
)

var (
	ssnSpec  = Spec{Name: NameSSN}
	ssnKeep3 = Spec{Name: NameSSN, KeepLast: 3}
)

func TestSSNEncrypt(t *testing.T) {
	tests := []struct {
		spec         Spec
		e            Engine
		value, token string
	}{
		{ssnSpec, shift, "123-45-6789", "211-60-0048"},
		{ssnSpec, shift, "123456789", "211600048"},
		{ssnSpec, feistel, "078-05-1120", "734-86-5803"},
		{ssnSpec, feistel, "078051120", "734865803"},
		{ssnKeep3, shift, "123-45-6789", "211-60-0789"},
		{ssnKeep3, feistel, "078-05-1120", "772-90-9120"},
	}
	for _, tt := range tests {
		f := mustNew(t, tt.spec)
		got, err := f.Encrypt(tt.e, tweak, tt.value)
		if err != nil || got != tt.token {
			t.Errorf("%+v: Encrypt(%q) = %q, %v; want %q", tt.spec, tt.value, got, err, tt.token)
		}
		back, err := f.Decrypt(tt.e, tweak, tt.token)
		if err != nil || back != tt.value {
			t.Errorf("%+v: Decrypt(%q) = %q, %v; want %q", tt.spec, tt.token, back, err, tt.value)
		}
	}
}

func TestSSNMask(t *testing.T) {
	tests := []struct {
		value, masked string
	}{
		{"123-45-6789", "***-**-6789"},
		{"123456789", "*****6789"},
	}
	for _, tt := range tests {
		got, err := mustNew(t, ssnSpec).Mask(tt.value)
		if err != nil || got != tt.masked {
			t.Errorf("Mask(%q) = %q, %v; want %q", tt.value, got, err, tt.masked)
		}
	}
}

func TestSSNInvalid(t *testing.T) {
	tests := []string{
		"123-45-678",
		"123-456-789",
		"12345678a",
		"123 45 6789",
		"1234567890",
		"123-45-67890",
		"",
	}
	for _, value := range tests {
		_, err := mustNew(t, ssnSpec).Encrypt(feistel, tweak, value)
		if !errors.Is(err, ErrInvalidValue) {
			t.Errorf("Encrypt(%q) error = %v, want ErrInvalidValue", value, err)
		}
	}
}

func TestSSNRoundTrip(t *testing.T) {
	for _, spec := range []Spec{ssnSpec, ssnKeep3} {
		f := mustNew(t, spec)
		for _, eng := range roundTripEngines {
			r := newRand()
			for range eng.n {
				d := randString(r, decimal, 9)
				value := d[:3] + "-" + d[3:5] + "-" + d[5:]
				token := roundTrip(t, f, eng.e, value)
				transformed := func(i int) bool { return value[i] != '-' && i < 11-spec.KeepLast }
				if !sameOutside(value, token, transformed) || f.Validate(token) != nil {
					t.Fatalf("%+v: Encrypt(%q) = %q: not an SSN with the kept characters in place", spec, value, token)
				}
				if eng.distinct && token == value {
					t.Errorf("%+v: Encrypt(%q) = the value", spec, value)
				}
			}
		}
	}
}
