package fpe_test

import (
	"encoding/hex"
	"fmt"
	"log"

	"github.com/privacyvault/privacyvault/tokenizer/fpe"
)

func ExampleFF1() {
	// In production the key comes from a KMS; never hard-code one.
	key, _ := hex.DecodeString("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
	c, err := fpe.NewFF1(key, "0123456789")
	if err != nil {
		log.Fatal(err)
	}
	// The tweak binds the token to its context; it is not secret.
	tweak := []byte("card-pan")
	token, err := c.Encrypt(tweak, "4111111111111111")
	if err != nil {
		log.Fatal(err)
	}
	pan, err := c.Decrypt(tweak, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(token)
	fmt.Println(pan)
	// Output:
	// 3814290946208778
	// 4111111111111111
}

func ExampleFF31() {
	key, _ := hex.DecodeString("EF4359D8D580AA4F7F036D6F04FC6A94")
	c, err := fpe.NewFF31(key, "abcdefghijklmnopqrstuvwxyz")
	if err != nil {
		log.Fatal(err)
	}
	tweak := []byte{0xD8, 0xE7, 0x92, 0x0A, 0xFA, 0x33, 0x0A} // exactly 7 bytes
	ct, err := c.Encrypt(tweak, "privacyvault")
	if err != nil {
		log.Fatal(err)
	}
	pt, err := c.Decrypt(tweak, ct)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ct)
	fmt.Println(pt)
	// Output:
	// ohltbxuudvqg
	// privacyvault
}

func ExampleFF1_EncryptNumerals() {
	key := make([]byte, 16) // all-zero demo key
	c, err := fpe.NewFF1Radix(key, 1024)
	if err != nil {
		log.Fatal(err)
	}
	ct, err := c.EncryptNumerals(nil, nil, []uint16{807, 849, 33, 533})
	if err != nil {
		log.Fatal(err)
	}
	pt, err := c.DecryptNumerals(nil, nil, ct)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ct)
	fmt.Println(pt)
	// Output:
	// [510 686 956 30]
	// [807 849 33 533]
}
