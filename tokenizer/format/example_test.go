package format_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/privacyvault/privacyvault/tokenizer/format"
)

// rotateEngine is a toy Engine that moves every character one place on in its
// alphabet. It only makes the example readable; production uses FF1.
type rotateEngine struct{}

func (rotateEngine) Encrypt(alphabet string, _ []byte, s string) (string, error) {
	return rotate(alphabet, s, 1), nil
}

func (rotateEngine) Decrypt(alphabet string, _ []byte, s string) (string, error) {
	return rotate(alphabet, s, len(alphabet)-1), nil
}

func rotate(alphabet, s string, by int) string {
	out := []byte(s)
	for i := range out {
		out[i] = alphabet[(strings.IndexByte(alphabet, out[i])+by)%len(alphabet)]
	}
	return string(out)
}

func ExampleNew() {
	card, err := format.New(format.Spec{Name: "credit_card", KeepFirst: 6})
	if err != nil {
		fmt.Println(err)
		return
	}
	tweak := []byte("customers.card")
	// The BIN is kept, the middle digits are encrypted and the check digit
	// is recomputed so that the token passes Luhn.
	token, _ := card.Encrypt(rotateEngine{}, tweak, "4111-1111-1111-1111")
	value, _ := card.Decrypt(rotateEngine{}, tweak, token)
	masked, _ := card.Mask("4111-1111-1111-1111")
	fmt.Println(token)
	fmt.Println(value)
	fmt.Println(masked)

	// Errors describe the problem but never quote the value.
	_, err = card.Encrypt(rotateEngine{}, tweak, "4111-1111-1111-1112")
	fmt.Println(errors.Is(err, format.ErrInvalidValue), err)
	_, err = card.Encrypt(rotateEngine{}, tweak, "4111-1111-1117")
	fmt.Println(errors.Is(err, format.ErrDomainTooSmall), err)

	email, _ := format.New(format.Spec{Name: "email"})
	token, _ = email.Encrypt(rotateEngine{}, tweak, "john.smith@example.com")
	masked, _ = email.Mask("john.smith@example.com")
	fmt.Println(token)
	fmt.Println(masked)
	// Output:
	// 4111-1122-2222-2227
	// 4111-1111-1111-1111
	// 4111-11**-****-1111
	// true credit_card: value fails the Luhn check
	// true credit_card: value has 5 digits to transform (100000 possible values), want at least 1000000 possible values
	// kpio.tnjui@example.com
	// j***@example.com
}
