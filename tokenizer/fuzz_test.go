package tokenizer_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/tokenizer"
)

// FuzzCodecDecode: Decode never panics, accepts only the spelling Encode
// returns, and Canonical maps every accepted spelling to a token that
// decodes to the same identifier.
func FuzzCodecDecode(f *testing.F) {
	c := tokenizer.NewCodec("email", keyA)
	tok := c.Encode(bytes.Repeat([]byte{7}, tokenizer.IDSize))
	for _, s := range []string{tok, strings.ToUpper(tok), tok[:len(tok)-1] + "b", tok[:len(tok)-1], tok + "a", "", "pvt_", "PVT_" + tok[4:], "pvt_" + strings.Repeat("=", 36)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		id, err := c.Decode(token)
		canon, named := c.Canonical(token)
		if err == nil {
			if got := c.Encode(id); got != token {
				t.Fatalf("Decode(%q) accepted a spelling other than Encode's %q", token, got)
			}
			if !named || canon != token {
				t.Fatalf("Canonical(decodable %q) = %q, %v, want itself", token, canon, named)
			}
		}
		if named {
			id2, err := c.Decode(canon)
			if err != nil {
				t.Fatalf("Decode(Canonical(%q) = %q) error = %v", token, canon, err)
			}
			if id != nil && !bytes.Equal(id, id2) {
				t.Fatalf("Decode(%q) and Decode(Canonical) disagree: %x vs %x", token, id, id2)
			}
		}
	})
}
