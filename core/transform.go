package core

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"

	"github.com/privacyvault/privacyvault/tokenizer"
	"github.com/privacyvault/privacyvault/tokenizer/format"
	"github.com/privacyvault/privacyvault/tokenizer/fpe"
)

// HashPrefix starts the tokens of hash classes that have no format.
const HashPrefix = "pvh_"

// transform tokenizes one item of a vaultless class (fpe, mask, hash);
// text is the value as a string when checkText made it ("" otherwise).
func (s *DataPlane) transform(ctx context.Context, c *class, it TokenizeItem, text string) (string, error) {
	if c.Mode == tokenizer.Mask {
		return string(c.mask(it.Value)), nil
	}
	tweak, err := s.itemTweak(ctx, c, it.Context, it.Tweak, it.SubjectID, true)
	if err != nil {
		return "", err
	}
	if c.Mode == tokenizer.Hash && c.Format == nil {
		return hashToken(c, tweak, it.Value), nil
	}
	if text == "" {
		text = string(it.Value)
	}
	tok, err := c.Format.Encrypt(c.engine, tweak, text)
	if err != nil {
		return "", formatError("value", err)
	}
	return tok, nil
}

// untransform detokenizes one fpe token into a slice from values (nil:
// allocated). FPE tokens carry no integrity tag (that would break the
// format): a tampered token that still parses decrypts to some other
// value of the same format.
func (s *DataPlane) untransform(ctx context.Context, c *class, it DetokenizeItem, values *byteArena) ([]byte, error) {
	tweak, err := s.itemTweak(ctx, c, it.Context, it.Tweak, it.SubjectID, false)
	if errors.Is(err, ErrSubjectErased) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	v, err := c.Format.Decrypt(c.engine, tweak, it.Token)
	if err != nil {
		return nil, formatError("token", err)
	}
	return values.bytes(v), nil
}

// itemTweak returns the tweak of one vaultless item. For classes with
// shred_with_subject the tweak is keyed by the subject's key, created on
// tokenize and only looked up on detokenize.
func (s *DataPlane) itemTweak(ctx context.Context, c *class, context string, given []byte, subjectID string, create bool) ([]byte, error) {
	if !c.ShredWithSubject {
		return c.tweak(context, given)
	}
	if subjectID == "" {
		return nil, Invalid("subject_id", "class %s has shred_with_subject and needs the subject id", c.Name)
	}
	key, err := s.subjectKey(ctx, c, s.fp.Subject(subjectID), create)
	if err != nil {
		return nil, err
	}
	return subjectTweak(key, c.Name, context), nil
}

var hashEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// hashToken is the pseudonym of a hash class without a format: 160 bits of
// HMAC-SHA256 under the class hash key, bound to the tweak.
func hashToken(c *class, tweak, value []byte) string {
	m := hmac.New(sha256.New, c.hashKey)
	m.Write(tweak)
	m.Write(value)
	return HashPrefix + strings.ToLower(hashEncoding.EncodeToString(m.Sum(nil)[:20]))
}

// formatError turns a format or cipher error into an item error on field.
// Format errors describe the problem without quoting the value; anything
// else is a server fault.
func formatError(field string, err error) error {
	var fe *format.Error
	switch {
	case errors.Is(err, format.ErrInvalidValue), errors.Is(err, format.ErrDomainTooSmall):
		if errors.As(err, &fe) {
			return Invalid(field, "%s", fe.Error())
		}
		return Invalid(field, "does not fit the class format")
	case errors.Is(err, fpe.ErrInvalidInput), errors.Is(err, fpe.ErrTooShort), errors.Is(err, fpe.ErrTooLong):
		return Invalid(field, "does not fit the class format")
	}
	return fmt.Errorf("core: format: %w", err)
}
