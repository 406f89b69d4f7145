package format

import (
	"errors"
	"net/mail"
	"slices"
	"strings"
	"testing"
)

var (
	emailSpec  = Spec{Name: NameEmail}
	emailAll   = Spec{Name: NameEmail, KeepDomain: new(bool)}
	emailSpecs = []Spec{emailSpec, emailAll}
	alnum62    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

func TestEmailEncrypt(t *testing.T) {
	tests := []struct {
		spec         Spec
		e            Engine
		value, token string
	}{
		{emailSpec, shift, "john.smith@example.com", "bwqe.oyvoi@example.com"},
		{emailSpec, feistel, "john.smith@example.com", "ph9v.ds3n0@example.com"},
		{emailSpec, feistel, "John.Smith+tag@example.com", "Suc5.Nq2tk+oms@example.com"},
		{emailSpec, feistel, "jane_doe-99@example.org", "29w1_xnr-fg@example.org"},
		{emailSpec, feistel, "abcd@x.io", "5eqr@x.io"},
		{emailSpec, feistel, "o'brien@pub.ie", "o'te75w@pub.ie"},
		{emailAll, feistel, "john@mail.example.co.uk", "9mef@349f.607bi8v.mp.uk"},
		{emailAll, feistel, "a.b@my-host.example.com", "l.0@nl-m53z.f1f4k0a.com"},
		{emailAll, feistel, "j@abc-def.com", "8@krr-yls.com"},
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

func TestEmailMask(t *testing.T) {
	tests := []struct {
		spec          Spec
		value, masked string
	}{
		{emailSpec, "john.smith@example.com", "j***@example.com"},
		{emailSpec, "J@example.com", "J***@example.com"},
		{emailAll, "john@mail.example.co.uk", "j***@***.uk"},
		{Spec{Name: NameEmail, MaskChar: "-"}, "john@example.com", "j---@example.com"},
	}
	for _, tt := range tests {
		got, err := mustNew(t, tt.spec).Mask(tt.value)
		if err != nil || got != tt.masked {
			t.Errorf("%+v: Mask(%q) = %q, %v; want %q", tt.spec, tt.value, got, err, tt.masked)
		}
	}
}

func TestEmailInvalid(t *testing.T) {
	tests := []struct {
		spec  Spec
		value string
		want  error
	}{
		{emailSpec, "john.smith.example.com", ErrInvalidValue},
		{emailSpec, "john@smith@example.com", ErrInvalidValue},
		{emailSpec, ".john@example.com", ErrInvalidValue},
		{emailSpec, "john.@example.com", ErrInvalidValue},
		{emailSpec, "jo..hn@example.com", ErrInvalidValue},
		{emailSpec, `"john smith"@example.com`, ErrInvalidValue},
		{emailSpec, "john@localhost", ErrInvalidValue},
		{emailSpec, "john@-example.com", ErrInvalidValue},
		{emailSpec, "john@example..com", ErrInvalidValue},
		{emailSpec, "john@exa_mple.com", ErrInvalidValue},
		{emailSpec, "@example.com", ErrInvalidValue},
		{emailSpec, strings.Repeat("a", 65) + "@example.com", ErrInvalidValue},
		{emailSpec, "abc@example.com", ErrDomainTooSmall},     // 36^3
		{emailSpec, "X.Y.Z.W@example.com", ErrDomainTooSmall}, // 26^4
		{emailAll, "ab@c.com", ErrDomainTooSmall},             // 36^3 with the domain
	}
	for _, tt := range tests {
		_, err := mustNew(t, tt.spec).Encrypt(feistel, tweak, tt.value)
		if !errors.Is(err, tt.want) {
			t.Errorf("%+v: Encrypt(%q) error = %v, want %v", tt.spec, tt.value, err, tt.want)
		}
	}
}

func TestEmailValid(t *testing.T) {
	tests := []struct {
		spec  Spec
		value string
	}{
		{emailAll, "abcd@c.com"},                        // 36^5 with the domain
		{emailSpec, "a.b.c.d+tag_x-y@example.com"},      // 36^8
		{emailSpec, "user!#$%&'*/=?^`{|}~@example.com"}, // all atext specials
		{emailSpec, "John@example.com"},                 // 26·36^3
	}
	for _, tt := range tests {
		if err := mustNew(t, tt.spec).Validate(tt.value); err != nil {
			t.Errorf("%+v: Validate(%q) = %v, want nil", tt.spec, tt.value, err)
		}
	}
}

func TestEmailRoundTrip(t *testing.T) {
	for _, spec := range emailSpecs {
		f := mustNew(t, spec).(*email)
		for _, eng := range roundTripEngines {
			r := newRand()
			for range eng.n {
				// At least 5 letters and digits: ≥ 26^5 values.
				local := randomText(r, alnum62, "._-+", 5+r.IntN(20))
				value := local + "@x" + randString(r, "abcdefghij-", 3) + "z.example.com"
				token := roundTrip(t, f, eng.e, value)
				addr, err := mail.ParseAddress(token)
				if err != nil || addr.Address != token {
					t.Fatalf("%+v: Encrypt(%q) = %q, not a valid address: %v", spec, value, token, err)
				}
				_, _, pos, _ := f.parse(value)
				transformed := func(i int) bool { return slices.Contains(pos, i) }
				if !sameOutside(value, token, transformed) || !sameClasses(alnumCharset, value, token) {
					t.Fatalf("%+v: Encrypt(%q) = %q: kept characters or case classes changed", spec, value, token)
				}
				if eng.distinct && token == value {
					t.Errorf("%+v: Encrypt(%q) = the value", spec, value)
				}
			}
		}
	}
}
