package format_test

import (
	"bytes"
	"testing"

	"github.com/privacyvault/privacyvault/tokenizer"
	"github.com/privacyvault/privacyvault/tokenizer/format"
)

var keepDomain = false

// fuzzSpecs is every format, in the shapes classes configure them.
var fuzzSpecs = []format.Spec{
	{Name: format.NameDigits},
	{Name: format.NameAlphanumeric},
	{Name: format.NameAlphabet, Alphabet: "0123456789abcdef"},
	{Name: format.NameCreditCard},
	{Name: format.NameCreditCard, KeepFirst: 6, KeepLast: 4},
	{Name: format.NameSSN, KeepLast: 3},
	{Name: format.NamePhone},
	{Name: format.NameEmail},
	{Name: format.NameEmail, KeepDomain: &keepDomain},
	{Name: format.NameDate},
}

// FuzzFormatRoundTrip: for every format and any input, Validate and
// Encrypt agree on what is acceptable; an accepted value's token is a
// value of the same format that Decrypt turns back into the value; Mask
// never panics.
func FuzzFormatRoundTrip(f *testing.F) {
	for i, v := range []string{"0000-0000", "John.Smith-42", "deadBEEF", "6011 0009 9013 9424", "4111-1111-1111-1111",
		"078-05-1120", "+44 20 7946 0958", "John.Smith+tag@example.com", "a.b@c.example.org", "1970-01-01"} {
		f.Add(uint8(i), v, []byte("tweak"))
	}
	engine := tokenizer.NewFF1Engine(bytes.Repeat([]byte{9}, 32))
	f.Fuzz(func(t *testing.T, which uint8, value string, tweak []byte) {
		spec := fuzzSpecs[int(which)%len(fuzzSpecs)]
		fm, err := format.New(spec)
		if err != nil {
			t.Fatalf("New(%+v) error = %v", spec, err)
		}
		_, _ = fm.Mask(value)
		valid := fm.Validate(value)
		token, err := fm.Encrypt(engine, tweak, value)
		switch {
		case valid != nil && err == nil:
			t.Fatalf("%s: Validate(%q) = %v but Encrypt succeeded", spec.Name, value, valid)
		case valid != nil:
			return
		case err != nil:
			t.Fatalf("%s: Encrypt(valid %q) error = %v", spec.Name, value, err)
		}
		if err := fm.Validate(token); err != nil {
			t.Fatalf("%s: token %q of %q does not validate: %v", spec.Name, token, value, err)
		}
		back, err := fm.Decrypt(engine, tweak, token)
		if err != nil || back != value {
			t.Fatalf("%s: Decrypt(Encrypt(%q)) = %q, %v", spec.Name, value, back, err)
		}
	})
}
