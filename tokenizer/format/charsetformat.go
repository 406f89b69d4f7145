package format

// charsetFormat implements digits, alphanumeric and alphabet: every character
// of its charset is transformed, everything else is kept in place.
type charsetFormat struct {
	name     string
	cs       *charset
	maskChar string
}

func newCharsetFormat(name string, cs *charset, maskChar string) *charsetFormat {
	return &charsetFormat{name: name, cs: cs, maskChar: maskChar}
}

// Name implements Format.
func (f *charsetFormat) Name() string { return f.name }

// parse returns a copy of value and the positions to transform.
func (f *charsetFormat) parse(value string) ([]byte, []int, error) {
	if err := checkText(f.name, value); err != nil {
		return nil, nil, err
	}
	buf := []byte(value)
	return buf, f.cs.positions(buf), nil
}

func (f *charsetFormat) parseDomain(value string) ([]byte, []int, error) {
	buf, pos, err := f.parse(value)
	if err != nil {
		return nil, nil, err
	}
	if err := checkDomain(f.name, len(pos), "characters", f.cs.domain(buf, pos)); err != nil {
		return nil, nil, err
	}
	return buf, pos, nil
}

// Validate implements Format.
func (f *charsetFormat) Validate(value string) error {
	if f.cs.allBase(value) {
		return f.checkAllBase(value)
	}
	_, _, err := f.parseDomain(value)
	return err
}

// checkAllBase is parseDomain for a value whose every byte is a base
// character of the charset (so it is ASCII text): no copy, no positions.
func (f *charsetFormat) checkAllBase(value string) error {
	if len(value) > MaxValueLen {
		return checkText(f.name, value)
	}
	return checkDomain(f.name, len(value), "characters", f.cs.baseDomain(len(value)))
}

// Encrypt implements Format.
func (f *charsetFormat) Encrypt(e Engine, tweak []byte, value string) (string, error) {
	return f.transform(e, tweak, value, false)
}

// Decrypt implements Format.
func (f *charsetFormat) Decrypt(e Engine, tweak []byte, token string) (string, error) {
	return f.transform(e, tweak, token, true)
}

func (f *charsetFormat) transform(e Engine, tweak []byte, value string, decrypt bool) (string, error) {
	if f.cs.allBase(value) {
		// The common case (a card or account number under digits): the
		// whole value is one string over the alphabet, handed to the Engine
		// as is. Same result as the general path, without its copies.
		if err := f.checkAllBase(value); err != nil {
			return "", err
		}
		c, err := newCipher(f.name, e, tweak, decrypt)
		if err != nil {
			return "", err
		}
		return c.apply(f.cs.alphabet, value)
	}
	buf, pos, err := f.parseDomain(value)
	if err != nil {
		return "", err
	}
	return transformAt(f.name, f.cs, e, tweak, decrypt, buf, pos)
}

// Mask implements Format: the last 4 transformable characters stay if there
// are at least 8, otherwise all are hidden.
func (f *charsetFormat) Mask(value string) (string, error) {
	_, pos, err := f.parse(value)
	if err != nil {
		return "", err
	}
	return maskTail(value, pos, f.maskChar), nil
}
