package format

import (
	"fmt"
	"strings"
)

// Length limits of an address (RFC 5321 §4.5.3.1).
const (
	emailMaxLocal  = 64
	emailMaxDomain = 253
	emailMaxLabel  = 63
	emailMaxBytes  = 254
)

// email implements email: "local@domain" with a dot-atom local part (quoted
// local parts and IP-literal domains are rejected) and a domain of at least two
// labels. Letters and digits of the local part are transformed like
// alphanumeric (case kept); its other characters (. _ - + and the rest of
// RFC 5322 atext) stay in place, so the token is a valid address whenever the
// value is. With keepDomain false the letters and digits of every domain label
// but the last (the TLD) are transformed too, in the same Engine call; hyphens
// and dots stay, so labels stay valid.
type email struct {
	keepDomain bool
	maskChar   string
}

// Name implements Format.
func (f *email) Name() string { return NameEmail }

// parse returns a copy of value, the index of its '@' and the positions to
// transform.
func (f *email) parse(value string) (buf []byte, at int, pos []int, err error) {
	if err := checkText(NameEmail, value); err != nil {
		return nil, 0, nil, err
	}
	if len(value) > emailMaxBytes {
		return nil, 0, nil, valueError(NameEmail, fmt.Sprintf("value is %d bytes, want at most %d", len(value), emailMaxBytes))
	}
	at = strings.IndexByte(value, '@')
	if at < 0 || strings.Count(value, "@") != 1 {
		return nil, 0, nil, valueError(NameEmail, "value must contain exactly one '@'")
	}
	if reason := checkLocal(value[:at]); reason != "" {
		return nil, 0, nil, valueError(NameEmail, reason)
	}
	if reason := checkDomainName(value[at+1:]); reason != "" {
		return nil, 0, nil, valueError(NameEmail, reason)
	}
	buf = []byte(value)
	end := at // transform the local part only…
	if !f.keepDomain {
		end = strings.LastIndexByte(value, '.') // …or up to the TLD
	}
	for i := 0; i < end; i++ {
		if alnumCharset.has(buf[i]) {
			pos = append(pos, i)
		}
	}
	return buf, at, pos, nil
}

// checkLocal returns why local is not a dot-atom local part, or "".
func checkLocal(local string) string {
	if len(local) == 0 || len(local) > emailMaxLocal {
		return fmt.Sprintf("local part is %d bytes, want 1 to %d", len(local), emailMaxLocal)
	}
	for i := 0; i < len(local); i++ {
		if b := local[i]; !isAtext(b) && b != '.' {
			return "local part contains a character not allowed in an unquoted local part"
		}
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "local part starts or ends with '.' or contains '..'"
	}
	return ""
}

// checkDomainName returns why domain is not a host name of two or more
// labels, or "".
func checkDomainName(domain string) string {
	if len(domain) == 0 || len(domain) > emailMaxDomain {
		return fmt.Sprintf("domain is %d bytes, want 1 to %d", len(domain), emailMaxDomain)
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "domain must have at least two labels"
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > emailMaxLabel {
			return fmt.Sprintf("domain label is %d bytes, want 1 to %d", len(l), emailMaxLabel)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "domain label starts or ends with '-'"
		}
		for i := 0; i < len(l); i++ {
			if b := l[i]; !isDigit(b) && !isLower(b) && !isUpper(b) && b != '-' {
				return "domain contains characters other than letters, digits, '-' and '.'"
			}
		}
	}
	return ""
}

// isAtext reports whether b is an RFC 5322 atext character.
func isAtext(b byte) bool {
	return isDigit(b) || isLower(b) || isUpper(b) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", b) >= 0
}

func (f *email) parseDomain(value string) ([]byte, []int, error) {
	buf, _, pos, err := f.parse(value)
	if err != nil {
		return nil, nil, err
	}
	if err := checkDomain(NameEmail, len(pos), "letters and digits", alnumCharset.domain(buf, pos)); err != nil {
		return nil, nil, err
	}
	return buf, pos, nil
}

// Validate implements Format.
func (f *email) Validate(value string) error {
	_, _, err := f.parseDomain(value)
	return err
}

// Encrypt implements Format.
func (f *email) Encrypt(e Engine, tweak []byte, value string) (string, error) {
	return f.transform(e, tweak, value, false)
}

// Decrypt implements Format.
func (f *email) Decrypt(e Engine, tweak []byte, token string) (string, error) {
	return f.transform(e, tweak, token, true)
}

func (f *email) transform(e Engine, tweak []byte, value string, decrypt bool) (string, error) {
	buf, pos, err := f.parseDomain(value)
	if err != nil {
		return "", err
	}
	return transformAt(NameEmail, alnumCharset, e, tweak, decrypt, buf, pos)
}

// Mask implements Format: the first character of the local part, three mask
// characters (hiding the length) and the domain, e.g. "j***@example.com". With
// keep_domain false the domain is hidden too, except its TLD: "j***@***.com".
func (f *email) Mask(value string) (string, error) {
	_, at, _, err := f.parse(value)
	if err != nil {
		return "", err
	}
	hidden := strings.Repeat(f.maskChar, 3)
	domain := value[at+1:]
	if !f.keepDomain {
		domain = hidden + domain[strings.LastIndexByte(domain, '.'):]
	}
	return value[:1] + hidden + "@" + domain, nil
}
