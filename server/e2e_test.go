package server_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/examples"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// Bearer tokens of examples/config.yaml.
const (
	checkout  = "dev-checkout-token-0001"
	support   = "dev-support-token-0002"
	analytics = "dev-analytics-token-0003"
)

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T) *servertest.Harness {
	return servertest.Start(t, servertest.Options{Config: examples.Config})
}

func tokenize(t *testing.T, c *client.Client, class, value string) string {
	t.Helper()
	tok, err := c.Tokenize(context.Background(), class, []byte(value))
	if err != nil {
		t.Fatalf("Tokenize(%s, value) error = %v", class, err)
	}
	return tok
}

func TestRoundTripBothModes(t *testing.T) {
	h := start(t)
	c := h.Client(checkout)
	tests := []struct {
		class, value string
	}{
		{"card_number", "4111 1111 1111 1111"},
		{"email", "alice@example.com"},
	}
	for _, tt := range tests {
		tok := tokenize(t, c, tt.class, tt.value)
		if strings.Contains(tok, tt.value) {
			t.Errorf("Tokenize(%s) = %q contains the value", tt.class, tok)
		}
		got, err := c.Detokenize(context.Background(), "payment", tt.class, tok)
		if err != nil || string(got.Value) != tt.value || got.Level != client.Plain {
			t.Errorf("Detokenize(Tokenize(%s)) = %q %v, %v; want %q plain", tt.class, got.Value, got.Level, err, tt.value)
		}
	}
}

func TestDeterministicTokens(t *testing.T) {
	h := start(t)
	c := h.Client(checkout)
	a := tokenize(t, c, "email", "bob@example.com")
	b := tokenize(t, c, "email", "bob@example.com")
	other := tokenize(t, c, "email", "carol@example.com")
	phone := tokenize(t, c, "customer_id", "bob@example.com")
	if a != b {
		t.Errorf("Tokenize(email, same value) = %q then %q, want equal", a, b)
	}
	if a == other {
		t.Errorf("Tokenize(email, different values) both = %q, want different", a)
	}
	if a == phone {
		t.Errorf("Tokenize(same value) in email and phone both = %q, want different across classes", a)
	}
	r1 := tokenize(t, c, "card_number", "4111111111111111")
	r2 := tokenize(t, c, "card_number", "4111111111111111")
	if r1 == r2 {
		t.Errorf("Tokenize(random class, same value) twice = %q, want different tokens", r1)
	}
	got, err := c.Lookup(context.Background(), "email", []byte("bob@example.com"))
	if err != nil || got != a {
		t.Errorf("Lookup(email, bob) = %q, %v; want %q", got, err, a)
	}
	if _, err := c.Lookup(context.Background(), "email", []byte("nobody@example.com")); status.Code(err) != codes.NotFound {
		t.Errorf("Lookup(never tokenized) code = %v, want NotFound", status.Code(err))
	}
	if _, err := c.Lookup(context.Background(), "card_number", []byte("4111111111111111")); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Lookup(random class) code = %v, want InvalidArgument", status.Code(err))
	}
}

// TestConcurrentDeterministic tokenizes one value from many goroutines at
// once: every caller must get the same token.
func TestConcurrentDeterministic(t *testing.T) {
	h := start(t)
	c := h.Client(checkout)
	const n = 16
	toks := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], errs[i] = c.Tokenize(context.Background(), "email", []byte("race@example.com"))
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || toks[i] != toks[0] {
			t.Errorf("goroutine %d: Tokenize = %q, %v; want %q", i, toks[i], errs[i], toks[0])
		}
	}
}

func TestBatchPerItemErrors(t *testing.T) {
	h := start(t)
	c := h.Client(checkout)
	res, err := c.TokenizeBatch(context.Background(), []client.TokenizeItem{
		{Class: "email", Value: []byte("good@example.com")},
		{Class: "email", Value: nil},
		{Class: "nope", Value: []byte("x")},
		{Class: "card_number", Value: []byte("4111111111111111")},
	})
	if err != nil {
		t.Fatalf("TokenizeBatch() error = %v", err)
	}
	wantCodes := []codes.Code{codes.OK, codes.InvalidArgument, codes.InvalidArgument, codes.OK}
	for i, want := range wantCodes {
		if got := status.Code(res[i].Err); got != want {
			t.Errorf("TokenizeBatch()[%d] code = %v, want %v", i, got, want)
		}
	}
	dres, err := c.DetokenizeBatch(context.Background(), "payment", []client.DetokenizeItem{
		{Class: "email", Token: res[0].Token},
		{Class: "ssn", Token: res[0].Token},
		{Class: "card_number", Token: res[3].Token},
	})
	if err != nil {
		t.Fatalf("DetokenizeBatch() error = %v", err)
	}
	wantD := []codes.Code{codes.OK, codes.PermissionDenied, codes.OK}
	for i, want := range wantD {
		if got := status.Code(dres[i].Err); got != want {
			t.Errorf("DetokenizeBatch()[%d] code = %v, want %v", i, got, want)
		}
	}
}

func TestAuthAndGrants(t *testing.T) {
	h := start(t)
	card := tokenize(t, h.Client(checkout), "card_number", "5500005555555559")
	tests := []struct {
		name      string
		token     string
		purpose   string
		wantCode  codes.Code
		wantLevel client.Level
		wantValue string
	}{
		{"granted plain", checkout, "payment", codes.OK, client.Plain, "5500005555555559"},
		{"granted masked", support, "customer-support", codes.OK, client.Masked, "************5559"},
		{"wrong purpose", checkout, "marketing", codes.PermissionDenied, 0, ""},
		{"no grant for class", analytics, "analytics", codes.PermissionDenied, 0, ""},
		{"unknown caller", "not-a-configured-token", "payment", codes.Unauthenticated, 0, ""},
		{"no credentials", "", "payment", codes.Unauthenticated, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.Client(tt.token).Detokenize(context.Background(), tt.purpose, "card_number", card)
			if code := status.Code(err); code != tt.wantCode || got.Level != tt.wantLevel || string(got.Value) != tt.wantValue {
				t.Errorf("Detokenize(%s) = %q %v, code %v; want %q %v, code %v", tt.name, got.Value, got.Level, code, tt.wantValue, tt.wantLevel, tt.wantCode)
			}
		})
	}
	email := tokenize(t, h.Client(checkout), "email", "dora@example.com")
	got, err := h.Client(analytics).Detokenize(context.Background(), "analytics", "email", email)
	if err != nil || got.Level != client.Redacted || len(got.Value) != 0 {
		t.Errorf("Detokenize(redacted grant) = %q %v, %v; want empty value at redacted", got.Value, got.Level, err)
	}
	if _, err := h.Client("").Tokenize(context.Background(), "email", []byte("x@example.com")); status.Code(err) != codes.Unauthenticated {
		t.Errorf("Tokenize(no credentials) code = %v, want Unauthenticated", status.Code(err))
	}
}

func fieldViolation(err error) string {
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return br.GetFieldViolations()[0].GetField()
		}
	}
	return ""
}

func TestBadInput(t *testing.T) {
	h := start(t)
	c := h.Client(checkout)
	email := tokenize(t, c, "email", "erin@example.com")
	card := tokenize(t, c, "card_number", "4111111111111111")
	tampered := []byte(card)
	tampered[len(tampered)-2] = map[bool]byte{true: 'b', false: 'a'}[tampered[len(tampered)-2] == 'a']

	tokTests := []struct {
		name      string
		class     string
		value     []byte
		wantField string
	}{
		{"empty value", "email", nil, "items[0].value"},
		{"unknown class", "passport", []byte("x"), "items[0].class"},
		{"missing class", "", []byte("x"), "items[0].class"},
		{"value over 64 KiB", "notes", bytes.Repeat([]byte("a"), 64<<10+1), "items[0].value"},
		{"invalid UTF-8", "notes", []byte{0xff, 0xfe, 'a'}, "items[0].value"},
	}
	for _, tt := range tokTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Tokenize(context.Background(), tt.class, tt.value)
			if status.Code(err) != codes.InvalidArgument || fieldViolation(err) != tt.wantField {
				t.Errorf("Tokenize(%s) = %v, field %q; want InvalidArgument on %q", tt.name, status.Code(err), fieldViolation(err), tt.wantField)
			}
		})
	}
	detTests := []struct {
		name      string
		class     string
		token     string
		wantField string
	}{
		{"tampered token", "card_number", string(tampered), "items[0].token"},
		{"foreign-class token", "card_number", email, "items[0].token"},
		{"garbage token", "card_number", "hello", "items[0].token"},
		{"empty token", "card_number", "", "items[0].token"},
	}
	for _, tt := range detTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Detokenize(context.Background(), "payment", tt.class, tt.token)
			if status.Code(err) != codes.InvalidArgument || fieldViolation(err) != tt.wantField {
				t.Errorf("Detokenize(%s) = %v, field %q; want InvalidArgument on %q", tt.name, status.Code(err), fieldViolation(err), tt.wantField)
			}
		})
	}

	t.Run("binary class accepts invalid UTF-8", func(t *testing.T) {
		if _, err := c.Tokenize(context.Background(), "document", []byte{0xff, 0x00, 0xfe}); err != nil {
			t.Errorf("Tokenize(document, binary) error = %v, want nil", err)
		}
	})
	t.Run("batch over the limit", func(t *testing.T) {
		// The raw API: the SDK would split the batch.
		items := make([]*pb.TokenizeItem, 10001)
		for i := range items {
			items[i] = &pb.TokenizeItem{Class: "email", Value: []byte("x")}
		}
		_, err := pb.NewTokenServiceClient(c.Conn()).Tokenize(context.Background(), &pb.TokenizeRequest{Items: items})
		if status.Code(err) != codes.InvalidArgument || fieldViolation(err) != "items" || client.Reason(err) != client.ReasonBatchTooLarge {
			t.Errorf("Tokenize(10001 items) = %v, field %q, reason %q; want InvalidArgument on items, BATCH_TOO_LARGE", status.Code(err), fieldViolation(err), client.Reason(err))
		}
	})
	t.Run("empty batch", func(t *testing.T) {
		_, err := c.TokenizeBatch(context.Background(), nil)
		if status.Code(err) != codes.InvalidArgument || fieldViolation(err) != "items" {
			t.Errorf("TokenizeBatch(no items) = %v, field %q; want InvalidArgument on items", status.Code(err), fieldViolation(err))
		}
	})
	t.Run("missing purpose", func(t *testing.T) {
		_, err := c.Detokenize(context.Background(), "", "card_number", card)
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "purpose") || fieldViolation(err) != "purpose" {
			t.Errorf("Detokenize(no purpose) = %v, field %q; want InvalidArgument naming purpose, field purpose", err, fieldViolation(err))
		}
	})
	// The server keeps serving after all of the above.
	hc := healthpb.NewHealthClient(c.Conn())
	resp, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health Check() after bad input = %v, %v; want SERVING", resp.GetStatus(), err)
	}
	got, err := c.Detokenize(context.Background(), "payment", "card_number", card)
	if err != nil || string(got.Value) != "4111111111111111" {
		t.Errorf("Detokenize(card) after bad input = %q, %v; want the card", got.Value, err)
	}
}

func TestConfiguredBatchLimit(t *testing.T) {
	cfg := strings.Replace(string(examples.Config), "max_batch: 10000", "max_batch: 3", 1)
	h := servertest.Start(t, servertest.Options{Config: []byte(cfg)})
	c := h.Client(checkout)
	raw := pb.NewTokenServiceClient(c.Conn()) // the SDK would split the batch
	items := make([]*pb.TokenizeItem, 4)
	for i := range items {
		items[i] = &pb.TokenizeItem{Class: "email", Value: []byte(fmt.Sprintf("u%d@example.com", i))}
	}
	if _, err := raw.Tokenize(context.Background(), &pb.TokenizeRequest{Items: items[:3]}); err != nil {
		t.Errorf("Tokenize(3 items, limit 3) error = %v", err)
	}
	if _, err := raw.Tokenize(context.Background(), &pb.TokenizeRequest{Items: items}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Tokenize(4 items, limit 3) code = %v, want InvalidArgument", status.Code(err))
	}
}

func TestRestartPersistence(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	c := h.Client(checkout)
	card := tokenize(t, c, "card_number", "4000056655665556")
	email := tokenize(t, c, "email", "frank@example.com")
	h.Stop()

	h2 := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	c2 := h2.Client(checkout)
	tests := []struct{ class, token, want string }{
		{"card_number", card, "4000056655665556"},
		{"email", email, "frank@example.com"},
	}
	for _, tt := range tests {
		got, err := c2.Detokenize(context.Background(), "payment", tt.class, tt.token)
		if err != nil || string(got.Value) != tt.want {
			t.Errorf("after restart Detokenize(%s) = %q, %v; want %q", tt.class, got.Value, err, tt.want)
		}
	}
	if again := tokenize(t, c2, "email", "frank@example.com"); again != email {
		t.Errorf("after restart Tokenize(email, same value) = %q, want the earlier %q", again, email)
	}
}

// TestLogsHoldNoPII runs a mix of good and bad calls and checks that no
// value and no token reaches the server log or the audit log.
func TestLogsHoldNoPII(t *testing.T) {
	logs := &syncBuffer{}
	h := servertest.Start(t, servertest.Options{Config: examples.Config, Logs: logs})
	c := h.Client(checkout)
	values := []string{"4111111111111111", "grace@example.com", "123-45-6789", "Grace Hopper", "+1 555 0100 9999", "5500005555555559", "0012-3456-7890"}
	classes := []string{"card_number", "email", "ssn", "name", "phone", "card_fpe", "account_number"}
	var tokens []string
	for i, v := range values {
		tokens = append(tokens, tokenize(t, c, classes[i], v))
	}
	for i, tok := range tokens {
		c.Detokenize(context.Background(), "payment", classes[i], tok)
		h.Client(support).Detokenize(context.Background(), "customer-support", classes[i], tok)
		h.Client(analytics).Detokenize(context.Background(), "analytics", classes[i], tok)
		c.Detokenize(context.Background(), "payment", "email", tok)        // foreign class
		c.Detokenize(context.Background(), "payment", classes[i], tok+"x") // tampered
		h.Client("wrong-token-"+values[i]).Detokenize(context.Background(), "payment", classes[i], tok)
		c.Lookup(context.Background(), classes[i], []byte(values[i]))
		c.Tokenize(context.Background(), "nope-"+values[i], []byte(values[i]))
		c.Tokenize(context.Background(), "notes", append([]byte(values[i]), 0xff))
	}
	h.Stop()
	auditLog, err := os.ReadFile(filepath.Join(h.DataDir, "audit", "audit.log"))
	if err != nil || !bytes.Contains(auditLog, []byte(`"op":"detokenize"`)) {
		t.Fatalf("audit log = %d bytes, %v; want detokenize events to check", len(auditLog), err)
	}
	for _, s := range append(values, tokens...) {
		if bytes.Contains(auditLog, []byte(s)) {
			t.Errorf("audit log contains %q", s)
		}
	}
	out := logs.String()
	if !strings.Contains(out, "privacyvault serving") || !strings.Contains(out, "finished call") || !strings.Contains(out, `"caller":"checkout"`) {
		t.Fatalf("log capture holds no server or call lines; the check would be vacuous:\n%s", out)
	}
	for _, s := range append(values, tokens...) {
		if strings.Contains(out, s) {
			t.Errorf("log output contains %q", s)
		}
	}
	if strings.Contains(out, checkout) {
		t.Errorf("log output contains a bearer token")
	}
}

// TestUnknownToken issues a token, then starts a server with the same keys
// but an empty store: the well-formed token must be NotFound.
func TestUnknownToken(t *testing.T) {
	dir := t.TempDir()
	h := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: dir})
	card := tokenize(t, h.Client(checkout), "card_number", "4111111111111111")
	h.Stop()
	fresh := t.TempDir()
	if err := os.CopyFS(filepath.Join(fresh, "devkeys"), os.DirFS(filepath.Join(dir, "devkeys"))); err != nil {
		t.Fatal(err)
	}
	h2 := servertest.Start(t, servertest.Options{Config: examples.Config, DataDir: fresh})
	_, err := h2.Client(checkout).Detokenize(context.Background(), "payment", "card_number", card)
	if status.Code(err) != codes.NotFound {
		t.Errorf("Detokenize(token absent from store) code = %v, want NotFound", status.Code(err))
	}
}
