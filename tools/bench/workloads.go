package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"

	vault "github.com/hashicorp/vault/api"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/privacyvault/privacyvault/client"
)

const purpose = "bench"

// counter makes deterministic-class values unique across the whole run,
// so every deterministic tokenize writes a new record.
var counter atomic.Uint64

func value(class string, rng *rand.Rand) []byte {
	if class == "fpe" {
		return appendDigits(make([]byte, 0, fpeDigits), rng.Uint64N(1e16))
	}
	return []byte("bench-value-" + strconv.FormatUint(counter.Add(1), 36) + "-" + strconv.FormatUint(rng.Uint64(), 36))
}

// fpeDigits is the length of an fpe value: a card number's 16 digits.
const fpeDigits = 16

// appendDigits appends n as fpeDigits decimal digits, zero-padded. The
// bench's client shares the cores with the sidecar: formatting 1,000
// values a batch with fmt cost it about as much as the SDK call itself.
func appendDigits(b []byte, n uint64) []byte {
	b = append(b, make([]byte, fpeDigits)...)
	for i := len(b) - 1; i >= len(b)-fpeDigits; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return b
}

// emptyOps calls the standard health Check: the cost of a gRPC call.
func emptyOps(conns []*grpc.ClientConn) op {
	hcs := make([]healthpb.HealthClient, len(conns))
	for i, c := range conns {
		hcs[i] = healthpb.NewHealthClient(c)
	}
	return func(ctx context.Context, w int, _ *rand.Rand) (int, error) {
		_, err := hcs[w].Check(ctx, &healthpb.HealthCheckRequest{})
		return 1, err
	}
}

func dialGRPC(addr string, n int) ([]*grpc.ClientConn, error) {
	var out []*grpc.ClientConn
	for range n {
		c, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func dialSidecar(addr string, n int) ([]*client.Client, error) {
	var out []*client.Client
	for range n {
		c, err := client.Dial(addr, client.WithInsecure(), client.WithBearerToken(benchToken))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// tokenizeOps tokenizes batch values per call; a batch of 1 is the SDK's
// single-value Tokenize, the call an application makes for one value.
func tokenizeOps(cls []*client.Client, class string, batch int) op {
	return func(ctx context.Context, w int, rng *rand.Rand) (int, error) {
		if batch == 1 {
			if _, err := cls[w].Tokenize(ctx, class, value(class, rng)); err != nil {
				return 0, err
			}
			return 1, nil
		}
		items := make([]client.TokenizeItem, batch)
		var digits []byte // fpe values, in one slab for the batch
		if class == "fpe" {
			digits = make([]byte, 0, batch*fpeDigits)
		}
		for i := range items {
			var v []byte
			if class == "fpe" {
				digits = appendDigits(digits, rng.Uint64N(1e16))
				v = digits[len(digits)-fpeDigits : len(digits) : len(digits)]
			} else {
				v = value(class, rng)
			}
			items[i] = client.TokenizeItem{Class: class, Value: v}
		}
		res, err := cls[w].TokenizeBatch(ctx, items)
		if err != nil {
			return 0, err
		}
		for _, r := range res {
			if r.Err != nil {
				return 0, r.Err
			}
		}
		return batch, nil
	}
}

// detokenizeOps resolves batch tokens per call; a batch of 1 is the SDK's
// single-value Detokenize.
func detokenizeOps(cls []*client.Client, class string, tokens []string, batch int) op {
	return func(ctx context.Context, w int, rng *rand.Rand) (int, error) {
		if batch == 1 {
			r, err := cls[w].Detokenize(ctx, purpose, class, tokens[rng.IntN(len(tokens))])
			if err != nil {
				return 0, err
			}
			if r.Level != client.Plain || len(r.Value) == 0 {
				return 0, errors.New("detokenize returned no plain value")
			}
			return 1, nil
		}
		items := make([]client.DetokenizeItem, batch)
		for i := range items {
			items[i] = client.DetokenizeItem{Class: class, Token: tokens[rng.IntN(len(tokens))]}
		}
		res, err := cls[w].DetokenizeBatch(ctx, purpose, items)
		if err != nil {
			return 0, err
		}
		for _, r := range res {
			if r.Err != nil {
				return 0, r.Err
			}
			if r.Level != client.Plain || len(r.Value) == 0 {
				return 0, errors.New("detokenize returned no plain value")
			}
		}
		return batch, nil
	}
}

// tokenPool tokenizes n values of class in batches and returns the tokens.
func tokenPool(ctx context.Context, c *client.Client, class string, n int) ([]string, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []string
	for len(out) < n {
		items := make([]client.TokenizeItem, min(1000, n-len(out)))
		for i := range items {
			items[i] = client.TokenizeItem{Class: class, Value: value(class, rng)}
		}
		res, err := c.TokenizeBatch(ctx, items)
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			if r.Err != nil {
				return nil, r.Err
			}
			out = append(out, r.Token)
		}
	}
	return out, nil
}

// Transit through the official Vault client (github.com/hashicorp/vault/api).

const transitKey = "bench"

func dialVault(addr string, n int) ([]*vault.Client, error) {
	var out []*vault.Client
	for range n {
		cfg := vault.DefaultConfig()
		cfg.Address = addr
		cfg.MaxRetries = 0
		c, err := vault.NewClient(cfg)
		if err != nil {
			return nil, err
		}
		c.SetToken("root")
		out = append(out, c)
	}
	if _, err := out[0].Logical().Write("transit/keys/"+transitKey, map[string]any{"type": "aes256-gcm96"}); err != nil {
		return nil, fmt.Errorf("create transit key: %w", err)
	}
	return out, nil
}

func plaintext(rng *rand.Rand) string {
	return base64.StdEncoding.EncodeToString(value("rnd", rng))
}

func transitEncryptOps(vcs []*vault.Client, batch int) op {
	return func(ctx context.Context, w int, rng *rand.Rand) (int, error) {
		var data map[string]any
		if batch == 1 {
			data = map[string]any{"plaintext": plaintext(rng)}
		} else {
			in := make([]map[string]any, batch)
			for i := range in {
				in[i] = map[string]any{"plaintext": plaintext(rng)}
			}
			data = map[string]any{"batch_input": in}
		}
		s, err := vcs[w].Logical().WriteWithContext(ctx, "transit/encrypt/"+transitKey, data)
		if err != nil {
			return 0, err
		}
		return batch, transitCheck(s, batch, "ciphertext")
	}
}

func transitDecryptOps(vcs []*vault.Client, cts []string, batch int) op {
	return func(ctx context.Context, w int, rng *rand.Rand) (int, error) {
		var data map[string]any
		if batch == 1 {
			data = map[string]any{"ciphertext": cts[rng.IntN(len(cts))]}
		} else {
			in := make([]map[string]any, batch)
			for i := range in {
				in[i] = map[string]any{"ciphertext": cts[rng.IntN(len(cts))]}
			}
			data = map[string]any{"batch_input": in}
		}
		s, err := vcs[w].Logical().WriteWithContext(ctx, "transit/decrypt/"+transitKey, data)
		if err != nil {
			return 0, err
		}
		return batch, transitCheck(s, batch, "plaintext")
	}
}

func transitCheck(s *vault.Secret, batch int, field string) error {
	if s == nil {
		return errors.New("transit: empty response")
	}
	if batch == 1 {
		if _, ok := s.Data[field].(string); !ok {
			return fmt.Errorf("transit: no %s in response", field)
		}
		return nil
	}
	res, ok := s.Data["batch_results"].([]any)
	if !ok || len(res) != batch {
		return fmt.Errorf("transit: batch_results has %d entries, want %d", len(res), batch)
	}
	for _, r := range res {
		m, _ := r.(map[string]any)
		if e, _ := m["error"].(string); e != "" {
			return fmt.Errorf("transit: %s", e)
		}
	}
	return nil
}

func transitPool(vc *vault.Client, n int) ([]string, error) {
	rng := rand.New(rand.NewPCG(3, 4))
	var out []string
	for len(out) < n {
		in := make([]map[string]any, min(1000, n-len(out)))
		for i := range in {
			in[i] = map[string]any{"plaintext": plaintext(rng)}
		}
		s, err := vc.Logical().Write("transit/encrypt/"+transitKey, map[string]any{"batch_input": in})
		if err != nil {
			return nil, err
		}
		for _, r := range s.Data["batch_results"].([]any) {
			out = append(out, r.(map[string]any)["ciphertext"].(string))
		}
	}
	return out, nil
}

// fsyncOps appends 128 bytes to a file on the data disk and fsyncs it: the
// cost every durable write pays at least once.
func fsyncOps(dir string) (op, func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, "fsync.probe"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	buf := make([]byte, 128)
	return func(context.Context, int, *rand.Rand) (int, error) {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
		return 1, f.Sync()
	}, func() { f.Close() }, nil
}
