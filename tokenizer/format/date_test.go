package format

import (
	"errors"
	"testing"
	"time"
)

var dateSpec = Spec{Name: NameDate}

func TestDateEncrypt(t *testing.T) {
	tests := []struct {
		e            Engine
		value, token string
	}{
		{shift, "2024-03-15", "4410-05-19"},
		{shift, "1970-01-01", "4632-06-17"},
		{feistel, "2024-03-15", "0289-02-07"},
		{feistel, "1970-01-01", "4873-03-26"},
		{feistel, "1990-01-01", "7163-03-07"},
		{feistel, "1999-12-31", "1157-03-28"},
		{feistel, "2000-02-29", "1718-03-10"},
		{feistel, "0001-01-01", "4609-09-05"},
		{feistel, "9999-12-31", "6679-05-24"},
	}
	f := mustNew(t, dateSpec)
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

func TestDateMask(t *testing.T) {
	tests := []struct {
		value, masked string
	}{
		{"2024-03-15", "****-03-15"},
		{"0001-01-01", "****-01-01"},
	}
	f := mustNew(t, dateSpec)
	for _, tt := range tests {
		got, err := f.Mask(tt.value)
		if err != nil || got != tt.masked {
			t.Errorf("Mask(%q) = %q, %v; want %q", tt.value, got, err, tt.masked)
		}
	}
}

func TestDateInvalid(t *testing.T) {
	tests := []string{
		"2023-02-29", // not a leap year
		"1900-02-29", // not a leap year either
		"2024-04-31",
		"2024-13-01",
		"2024-00-10",
		"2024-01-00",
		"0000-01-01",
		"2024-1-15",
		"2024/01/15",
		"15-01-2024",
		"2024-01-15T00:00:00Z",
		"+2024-01-1",
		"",
	}
	f := mustNew(t, dateSpec)
	for _, value := range tests {
		_, err := f.Encrypt(feistel, tweak, value)
		if !errors.Is(err, ErrInvalidValue) {
			t.Errorf("Encrypt(%q) error = %v, want ErrInvalidValue", value, err)
		}
	}
}

func TestDateDays(t *testing.T) {
	if dateDays != 3_652_059 {
		t.Errorf("dateDays = %d, want 3652059", dateDays)
	}
	if got := formatDay(dateDays - 1); got != "9999-12-31" {
		t.Errorf("formatDay(%d) = %q, want 9999-12-31", dateDays-1, got)
	}
}

// TestDateRoundTrip covers random days of the whole range and every day of
// 1999-2001 (leap and non-leap years, month ends).
func TestDateRoundTrip(t *testing.T) {
	f := mustNew(t, dateSpec)
	first := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
	var values []string
	for d := first; d.Year() < 2002; d = d.AddDate(0, 0, 1) {
		values = append(values, d.Format(time.DateOnly))
	}
	r := newRand()
	for range 500 {
		values = append(values, formatDay(r.Int64N(dateDays)))
	}
	for _, eng := range roundTripEngines {
		tokens := map[string]bool{}
		for _, value := range values {
			token := roundTrip(t, f, eng.e, value)
			parsed, err := time.Parse(time.DateOnly, token)
			if err != nil || parsed.Format(time.DateOnly) != token || tokens[token] {
				t.Fatalf("%s: Encrypt(%q) = %q: not a valid date, or a repeat: %v", eng.name, value, token, err)
			}
			tokens[token] = true
		}
	}
}
