package client_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server"
)

// startSidecar runs a sidecar on the sample configuration for the examples;
// in real use it runs next to your service and you only Dial it.
func startSidecar() (addr string, stop func()) {
	dir, err := os.MkdirTemp("", "privacyvault-example")
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := config.Parse(examples.ConfigName, examples.Config)
	if err != nil {
		log.Fatal(err)
	}
	cfg.Server.DataDir = dir
	cfg.Server.Listen = "127.0.0.1:0"
	s, err := server.Start(context.Background(), server.Options{Config: cfg, Dev: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	return s.Addr().String(), func() { s.Stop(); os.RemoveAll(dir) }
}

func Example() {
	addr, stop := startSidecar()
	defer stop()

	c, err := client.Dial(addr, client.WithInsecure(), client.WithBearerToken("dev-checkout-token-0001"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	tok, err := c.Tokenize(ctx, "card_number", []byte("4111111111111111"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token looks like a token:", strings.HasPrefix(tok, "pvt_"))

	v, err := c.Detokenize(ctx, "payment", "card_number", tok)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(v.Value), v.Level)
	// Output:
	// token looks like a token: true
	// 4111111111111111 REVEAL_LEVEL_PLAIN
}

func ExampleClient_TokenizeBatch() {
	addr, stop := startSidecar()
	defer stop()
	c, err := client.Dial(addr, client.WithInsecure(), client.WithBearerToken("dev-checkout-token-0001"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	res, err := c.TokenizeBatch(context.Background(), []client.TokenizeItem{
		{Class: "email", Value: []byte("alice@example.com")},
		{Class: "email", Value: nil}, // bad item: fails alone
		{Class: "passport", Value: []byte("X1234567")},
	})
	if err != nil {
		log.Fatal(err) // the call as a whole failed
	}
	for i, r := range res {
		if r.Err != nil {
			fmt.Println(i, status.Code(r.Err), status.Convert(r.Err).Message())
			continue
		}
		fmt.Println(i, "ok")
	}
	// Output:
	// 0 ok
	// 1 InvalidArgument items[1].value: must not be empty
	// 2 InvalidArgument items[2].class: unknown data class (configured classes: account_number, card_fpe, card_last4, card_number, customer_id, document, email, email_pseudonym, legacy_account, member_number, name, notes, phone, ssn)
}

func ExampleClient_Lookup() {
	addr, stop := startSidecar()
	defer stop()
	c, err := client.Dial(addr, client.WithInsecure(), client.WithBearerToken("dev-checkout-token-0001"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	tok, err := c.Tokenize(ctx, "email", []byte("bob@example.com"))
	if err != nil {
		log.Fatal(err)
	}
	found, err := c.Lookup(ctx, "email", []byte("bob@example.com"))
	fmt.Println(found == tok, err)
	_, err = c.Lookup(ctx, "email", []byte("nobody@example.com"))
	fmt.Println(status.Code(err))
	// Output:
	// true <nil>
	// NotFound
}

func ExampleIsTokenExpired() {
	addr, stop := startSidecar()
	defer stop()
	c, err := client.Dial(addr, client.WithInsecure(), client.WithBearerToken("dev-checkout-token-0001"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	// A token that is only needed for a short while: a TTL shorter than
	// the class retention, and the customer it belongs to.
	tok, err := c.Tokenize(ctx, "card_number", []byte("4111111111111111"),
		client.WithSubject("cust-42"), client.WithTTL(time.Nanosecond))
	if err != nil {
		log.Fatal(err)
	}
	time.Sleep(time.Millisecond) // let the TTL pass
	_, err = c.Detokenize(ctx, "payment", "card_number", tok)
	switch {
	case client.IsTokenExpired(err):
		fmt.Println("expired:", status.Code(err))
	case client.IsTokenNotFound(err):
		fmt.Println("unknown token:", status.Code(err))
	}
	// Output: expired: NotFound
}
