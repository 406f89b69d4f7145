package client_test

import (
	"testing"

	"github.com/privacyvault/privacyvault/client"
)

func TestDialNeedsTransportChoice(t *testing.T) {
	if _, err := client.Dial("127.0.0.1:1"); err == nil {
		t.Error("Dial() without WithTLS or WithInsecure = nil error, want an error")
	}
}
