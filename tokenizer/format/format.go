package format

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Engine is a keyed, tweakable permutation over fixed-length strings of one
// alphabet (FF1 in production). Encrypt and Decrypt must be inverses for the
// same alphabet and tweak, and must return a string of the same length over the
// same alphabet. A one-way Engine (hash mode) may return ErrIrreversible from
// Decrypt: Format.Encrypt never calls Decrypt, so it works with such an Engine
// (Format.Decrypt may call both). Errors should not quote s; this package does
// not render them anyway (see Error.Cause).
//
// Alphabets passed by this package are ASCII, at least 2 characters long, and
// every string has at least MinDomain possible values (radix^len ≥ 1,000,000).
type Engine interface {
	Encrypt(alphabet string, tweak []byte, s string) (string, error)
	Decrypt(alphabet string, tweak []byte, s string) (string, error)
}

// Format names accepted in Spec.Name.
const (
	NameDigits       = "digits"
	NameAlphanumeric = "alphanumeric"
	NameAlphabet     = "alphabet"
	NameCreditCard   = "credit_card"
	NameSSN          = "ssn"
	NamePhone        = "phone"
	NameEmail        = "email"
	NameDate         = "date"
)

const (
	// MinDomain is the minimum number of possible values of the transformed part
	// of a value, per NIST SP 800-38G Rev. 1 (radix^minlen ≥ 1,000,000).
	MinDomain = 1_000_000
	// MaxWalk bounds every cycle walk (and the fixed-point handling of
	// credit_card); exceeding it yields ErrCycleWalk.
	MaxWalk = 1000
	// MaxValueLen is the longest value, in bytes, any format accepts; it bounds
	// the cost of one call.
	MaxValueLen = 4096
)

// Spec is the configuration of a format as written in a data class.
type Spec struct {
	// Name selects the format: digits, alphanumeric, alphabet, credit_card,
	// ssn, phone, email or date.
	Name string `yaml:"name"`
	// Alphabet is the set of transformed characters of the "alphabet" format:
	// 2 to 95 distinct printable ASCII characters. If all its letters have one
	// case, letters of the other case are transformed too, keeping their case.
	Alphabet string `yaml:"alphabet,omitempty"`
	// KeepFirst is how many leading digits credit_card keeps (6 keeps the BIN).
	// With the check digit, KeepFirst+max(KeepLast, 1) must leave 6 digits to
	// transform in a 19-digit card; shorter cards that keep fewer than 6 get
	// ErrDomainTooSmall.
	KeepFirst int `yaml:"keep_first,omitempty"`
	// KeepLast is how many trailing digits credit_card (e.g. 4) or ssn keeps.
	// For ssn it is 0 to 3: keeping 4 would leave 5 digits, fewer than
	// MinDomain values.
	KeepLast int `yaml:"keep_last,omitempty"`
	// KeepDomain tells email to keep the domain (nil means true) or transform it.
	KeepDomain *bool `yaml:"keep_domain,omitempty"`
	// MaskChar is the single character Mask writes over hidden characters;
	// "" means "*". It must not be a letter, digit, space or control character.
	MaskChar string `yaml:"mask_char,omitempty"`
}

// Format parses values of one kind, transforms their sensitive characters and
// keeps everything else (separators, kept digits, domains) in place.
type Format interface {
	// Name returns the Spec name of the format, e.g. "credit_card".
	Name() string
	// Validate reports whether Encrypt and Decrypt can handle value: it returns
	// an ErrInvalidValue error if value does not parse and an ErrDomainTooSmall
	// error if its transformable part has fewer than MinDomain possible values.
	Validate(value string) error
	// Encrypt transforms value with e under tweak, preserving its format. It
	// only calls e.Encrypt, so it also serves one-way (hash mode) engines.
	Encrypt(e Engine, tweak []byte, value string) (string, error)
	// Decrypt inverts Encrypt: Decrypt(e, t, Encrypt(e, t, v)) == v for an
	// Engine that is a permutation.
	Decrypt(e Engine, tweak []byte, token string) (string, error)
	// Mask returns a partially masked, irreversible form of value, keeping
	// separators, e.g. "************1111" or "j***@example.com".
	Mask(value string) (string, error)
}

// New validates spec and returns the format it describes. Errors wrap
// ErrInvalidSpec and name the offending field by its YAML name.
func New(spec Spec) (Format, error) {
	mask, err := maskChar(spec)
	if err != nil {
		return nil, err
	}
	if err := checkUnused(spec); err != nil {
		return nil, err
	}
	switch spec.Name {
	case NameDigits:
		return newCharsetFormat(spec.Name, digitCharset, mask), nil
	case NameAlphanumeric:
		return newCharsetFormat(spec.Name, alnumCharset, mask), nil
	case NameAlphabet:
		cs, reason := newCharset(spec.Alphabet)
		if reason != "" {
			return nil, specError(spec.Name, "alphabet", reason)
		}
		return newCharsetFormat(spec.Name, cs, mask), nil
	case NameCreditCard:
		return newCard(spec, mask)
	case NameSSN:
		return newSSN(spec, mask)
	case NamePhone:
		return &phone{maskChar: mask}, nil
	case NameEmail:
		keep := spec.KeepDomain == nil || *spec.KeepDomain
		return &email{keepDomain: keep, maskChar: mask}, nil
	case NameDate:
		return &date{maskChar: mask}, nil
	case "":
		return nil, specError("", "name", "is required")
	default:
		return nil, specError("", "name", fmt.Sprintf("unknown format %q", spec.Name))
	}
}

// checkUnused rejects fields the chosen format ignores, so a misconfigured data
// class fails at load time instead of silently tokenizing differently.
func checkUnused(spec Spec) error {
	n := spec.Name
	if spec.Alphabet != "" && n != NameAlphabet {
		return specError(n, "alphabet", "only applies to the alphabet format")
	}
	if spec.KeepFirst != 0 && n != NameCreditCard {
		return specError(n, "keep_first", "only applies to credit_card")
	}
	if spec.KeepLast != 0 && n != NameCreditCard && n != NameSSN {
		return specError(n, "keep_last", "only applies to credit_card and ssn")
	}
	if spec.KeepDomain != nil && n != NameEmail {
		return specError(n, "keep_domain", "only applies to email")
	}
	return nil
}

// maskChar returns spec.MaskChar or its default, rejecting characters that could
// be mistaken for data.
func maskChar(spec Spec) (string, error) {
	if spec.MaskChar == "" {
		return "*", nil
	}
	r, size := utf8.DecodeRuneInString(spec.MaskChar)
	switch {
	case r == utf8.RuneError || size != len(spec.MaskChar):
		return "", specError(spec.Name, "mask_char", "must be exactly one UTF-8 character")
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || !unicode.IsPrint(r):
		return "", specError(spec.Name, "mask_char", "must not be a letter, digit, space or control character")
	}
	return spec.MaskChar, nil
}
