package server_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault"
	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// gwClient calls the HTTP/JSON gateway over real HTTP.
type gwClient struct {
	t      *testing.T
	base   string
	bearer string
	http   *http.Client
}

// gwStatus is a google.rpc.Status as the gateway writes it.
type gwStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type            string `json:"@type"`
		Reason          string `json:"reason"`
		FieldViolations []struct {
			Field string `json:"field"`
		} `json:"fieldViolations"`
	} `json:"details"`
}

func fieldViolations(st gwStatus) []string {
	fields := []string{}
	for _, d := range st.Details {
		for _, v := range d.FieldViolations {
			fields = append(fields, v.Field)
		}
	}
	return fields
}

func (c gwClient) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	if raw, ok := body.(string); ok {
		r = strings.NewReader(raw)
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	hc := c.http
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// call does a request that must succeed and decodes its JSON answer.
func (c gwClient) call(method, path string, body, out any) {
	c.t.Helper()
	code, b := c.do(method, path, body)
	if code != http.StatusOK {
		c.t.Fatalf("%s %s = HTTP %d %s, want 200", method, path, code, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		c.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
	}
}

// fail does a request that must fail with HTTP code and decodes its status.
func (c gwClient) fail(method, path string, body any, code int) gwStatus {
	c.t.Helper()
	got, b := c.do(method, path, body)
	var st gwStatus
	if err := json.Unmarshal(b, &st); err != nil {
		c.t.Fatalf("%s %s: decode status %s: %v", method, path, b, err)
	}
	if got != code {
		c.t.Fatalf("%s %s = HTTP %d %s, want %d", method, path, got, b, code)
	}
	return st
}

type gwTokenize struct {
	Results []struct {
		Token string    `json:"token"`
		Error *gwStatus `json:"error"`
	} `json:"results"`
}

type gwDetokenize struct {
	Results []struct {
		Revealed *struct {
			Value []byte `json:"value"` // base64 in JSON, as protojson writes bytes
			Level string `json:"level"`
		} `json:"revealed"`
		Error *gwStatus `json:"error"`
	} `json:"results"`
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func startGateway(t *testing.T) *servertest.Harness {
	t.Helper()
	return startGatewayLogs(t, nil)
}

func startGatewayLogs(t *testing.T, logs io.Writer) *servertest.Harness {
	t.Helper()
	cfg := bytes.Replace(examples.Config, []byte("max_batch: 10000"), []byte("max_batch: 3"), 1)
	if bytes.Equal(cfg, examples.Config) {
		t.Fatal("examples/config.yaml no longer sets max_batch: 10000")
	}
	return servertest.Start(t, servertest.Options{Config: cfg, HTTP: true, Logs: logs})
}

// TestGatewayRoundTripAndAudit: tokenize and detokenize over HTTP/JSON for
// random, deterministic and fpe classes, and the audit trail records the
// HTTP read like a gRPC one.
func TestGatewayRoundTripAndAudit(t *testing.T) {
	logs := &syncBuffer{}
	h := startGatewayLogs(t, logs)
	app := gwClient{t: t, base: "http://" + h.HTTPAddr, bearer: checkout}
	tests := []struct {
		class, value string
	}{
		{"card_number", "4111 1111 1111 1111"},
		{"email", "alice@example.com"},
		{"account_number", "12345678901"},
	}
	for _, tt := range tests {
		var tok gwTokenize
		app.call("POST", "/v1/tokens:tokenize", map[string]any{"items": []map[string]any{{"class": tt.class, "value": b64(tt.value), "subjectId": "cust-42"}}}, &tok)
		if len(tok.Results) != 1 || tok.Results[0].Token == "" {
			t.Fatalf("POST /v1/tokens:tokenize (%s) = %+v, want one token", tt.class, tok)
		}
		var det gwDetokenize
		app.call("POST", "/v1/tokens:detokenize", map[string]any{"purpose": "payment", "items": []map[string]any{{"class": tt.class, "token": tok.Results[0].Token, "subjectId": "cust-42"}}}, &det)
		if len(det.Results) != 1 || det.Results[0].Revealed == nil || string(det.Results[0].Revealed.Value) != tt.value || det.Results[0].Revealed.Level != "REVEAL_LEVEL_PLAIN" {
			t.Errorf("detokenize(tokenize(%s)) over HTTP = %+v, want the value, plain", tt.class, det)
		}
	}
	dpo := gwClient{t: t, base: app.base, bearer: "dev-ops-token-00000004"}
	var report struct {
		Accesses []struct {
			Caller, Purpose, Op, Decision string
		} `json:"accesses"`
	}
	dpo.call("POST", "/v1/admin/subjects:accessReport", map[string]any{"subjectId": "cust-42"}, &report)
	reads := 0
	for _, a := range report.Accesses {
		if a.Caller == "checkout" && a.Purpose == "payment" && a.Op == "detokenize" {
			reads++
		}
	}
	if reads != len(tests) {
		t.Errorf("access report after %d HTTP detokenizes lists %d reads by checkout: %+v", len(tests), reads, report.Accesses)
	}
	httpLines := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"finished call"`) && strings.Contains(line, `"grpc.method":"Detokenize"`) && strings.Contains(line, `"protocol":"http"`) && strings.Contains(line, `"caller":"checkout"`) {
			httpLines++
		}
	}
	if httpLines != len(tests) {
		t.Errorf("log has %d finished-call lines for HTTP detokenizes by checkout with protocol=http, want %d", httpLines, len(tests))
	}
}

// TestGatewayErrors: the gRPC error model over HTTP — google.rpc.Status as
// JSON with the matching HTTP code, per-item errors inside a 200.
func TestGatewayErrors(t *testing.T) {
	h := startGateway(t)
	base := "http://" + h.HTTPAddr
	app := gwClient{t: t, base: base, bearer: checkout}

	st := gwClient{t: t, base: base}.fail("POST", "/v1/tokens:tokenize", map[string]any{"items": []map[string]any{{"class": "email", "value": b64("a@b.example")}}}, http.StatusUnauthorized)
	if st.Code != 16 {
		t.Errorf("no credentials: status code = %d, want 16 (Unauthenticated)", st.Code)
	}
	gwClient{t: t, base: base, bearer: "not-a-token"}.fail("POST", "/v1/tokens:tokenize", map[string]any{"items": []map[string]any{{"class": "email", "value": b64("a@b.example")}}}, http.StatusUnauthorized)

	st = app.fail("GET", "/v1/admin/keys", nil, http.StatusForbidden)
	if st.Code != 7 {
		t.Errorf("admin call by checkout: status code = %d, want 7 (PermissionDenied)", st.Code)
	}
	var keys struct {
		Classes []struct {
			Class string `json:"class"`
		} `json:"classes"`
	}
	gwClient{t: t, base: base, bearer: "dev-ops-token-00000004"}.call("GET", "/v1/admin/keys", nil, &keys)
	if len(keys.Classes) == 0 {
		t.Errorf("GET /v1/admin/keys as ops = %+v, want every class", keys)
	}

	four := []map[string]any{}
	for range 4 {
		four = append(four, map[string]any{"class": "email", "value": b64("a@b.example")})
	}
	st = app.fail("POST", "/v1/tokens:tokenize", map[string]any{"items": four}, http.StatusBadRequest)
	violations := fieldViolations(st)
	if st.Code != 3 || len(violations) != 1 || violations[0] != "items" {
		t.Errorf("batch over the limit: status %d, field violations %q; want 3 with [items]", st.Code, violations)
	}
	st = app.fail("POST", "/v1/tokens:detokenize", map[string]any{"items": []map[string]any{{"class": "email", "token": "x"}}}, http.StatusBadRequest)
	if fields := fieldViolations(st); st.Code != 3 || len(fields) != 1 || fields[0] != "purpose" {
		t.Errorf("detokenize without purpose: status %d %q, field violations %q; want 3 with [purpose]", st.Code, st.Message, fields)
	}
	secret := "4111111111111111"
	code, body := app.do("POST", "/v1/tokens:tokenize", `{"items": [{"class": "card_number", "value": "`+secret+`"`)
	if code != http.StatusBadRequest || strings.Contains(string(body), secret) {
		t.Errorf("malformed JSON = HTTP %d %s; want 400 that does not quote the body", code, body)
	}

	var tok gwTokenize
	app.call("POST", "/v1/tokens:tokenize", map[string]any{"items": []map[string]any{
		{"class": "card_number", "value": b64("4111111111111111")},
		{"class": "no_such_class", "value": b64("x")},
	}}, &tok)
	if len(tok.Results) != 2 || tok.Results[0].Token == "" || tok.Results[1].Error == nil || tok.Results[1].Error.Code != 3 {
		t.Fatalf("batch with one bad item = %+v, want a token and an InvalidArgument", tok)
	}
	var det gwDetokenize
	app.call("POST", "/v1/tokens:detokenize", map[string]any{"purpose": "marketing", "items": []map[string]any{{"class": "card_number", "token": tok.Results[0].Token}}}, &det)
	if len(det.Results) != 1 || det.Results[0].Error == nil || det.Results[0].Error.Code != 7 {
		t.Errorf("detokenize for a purpose without a grant = %+v, want a PermissionDenied item", det)
	}
}

// TestGatewayOpenAPI: the generated OpenAPI document is served and names
// the routes.
func TestGatewayOpenAPI(t *testing.T) {
	h := startGateway(t)
	resp, err := http.Get("http://" + h.HTTPAddr + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Swagger string `json:"swagger"`
		Info    struct {
			Title, Version string
		} `json:"info"`
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("GET /openapi.json: %v", err)
	}
	for _, p := range []string{"/v1/tokens:tokenize", "/v1/tokens:detokenize", "/v1/consents:set", "/v1/admin/keys"} {
		if doc.Paths[p] == nil {
			t.Errorf("GET /openapi.json has no path %s", p)
		}
	}
	if doc.Swagger != "2.0" || doc.Info.Title != "privacyvault" || doc.Info.Version != privacyvault.Version() {
		t.Errorf("GET /openapi.json swagger %q, info %+v; want 2.0, privacyvault %s", doc.Swagger, doc.Info, privacyvault.Version())
	}
}

// TestGatewayMTLS: the gateway takes the caller from the client
// certificate, as gRPC does, and refuses one from another CA.
func TestGatewayMTLS(t *testing.T) {
	w := newIdentityWorld(t)
	https := func(cert tls.Certificate) gwClient {
		tc := &tls.Config{RootCAs: w.roots, ServerName: "localhost", MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		return gwClient{t: t, base: "https://" + w.h.HTTPAddr, http: &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}}
	}
	app := https(w.checkout)
	var tok gwTokenize
	app.call("POST", "/v1/tokens:tokenize", map[string]any{"items": []map[string]any{{"class": "card_number", "value": b64("4111111111111111")}}}, &tok)
	var det gwDetokenize
	app.call("POST", "/v1/tokens:detokenize", map[string]any{"purpose": "payment", "items": []map[string]any{{"class": "card_number", "token": tok.Results[0].Token}}}, &det)
	if len(det.Results) != 1 || det.Results[0].Revealed == nil || det.Results[0].Revealed.Level != "REVEAL_LEVEL_PLAIN" {
		t.Errorf("detokenize over HTTPS as checkout = %+v, want plain", det)
	}
	det = gwDetokenize{}
	https(w.cart).call("POST", "/v1/tokens:detokenize", map[string]any{"purpose": "payment", "items": []map[string]any{{"class": "card_number", "token": tok.Results[0].Token}}}, &det)
	if len(det.Results) != 1 || det.Results[0].Revealed == nil || det.Results[0].Revealed.Level != "REVEAL_LEVEL_MASKED" {
		t.Errorf("detokenize over HTTPS as cart = %+v, want masked", det)
	}
	https(w.stranger).fail("POST", "/v1/tokens:tokenize", map[string]any{"items": []map[string]any{{"class": "card_number", "value": b64("4111111111111111")}}}, http.StatusUnauthorized)
}

// TestGatewayStreams: server-streaming methods over HTTP answer one JSON
// object per line ({"result": ...}), through the same auth as gRPC.
func TestGatewayStreams(t *testing.T) {
	h := startGateway(t)
	base := "http://" + h.HTTPAddr
	app := gwClient{t: t, base: base, bearer: checkout}
	var tok gwTokenize
	app.call("POST", "/v1/tokens:tokenize", map[string]any{"items": []map[string]any{
		{"class": "card_number", "value": b64("4111111111111111"), "subjectId": "cust-http"},
		{"class": "email", "value": b64("http@example.com"), "subjectId": "cust-http"},
	}}, &tok)

	dpo := gwClient{t: t, base: base, bearer: "dev-dpo-token-00000005"}
	code, body := dpo.do("POST", "/v1/subjects:export", map[string]any{"subjectId": "cust-http"})
	if code != http.StatusOK {
		t.Fatalf("POST /v1/subjects:export as dpo = HTTP %d %s, want 200", code, body)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		var msg struct {
			Result struct {
				Tokens []struct {
					Class string `json:"class"`
					Token string `json:"token"`
					Value []byte `json:"value"`
				} `json:"tokens"`
			} `json:"result"`
		}
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		for _, tk := range msg.Result.Tokens {
			got[tk.Token] = tk.Class + " " + string(tk.Value)
		}
	}
	want := map[string]string{tok.Results[0].Token: "card_number 4111111111111111", tok.Results[1].Token: "email http@example.com"}
	if len(got) != len(want) || got[tok.Results[0].Token] != want[tok.Results[0].Token] || got[tok.Results[1].Token] != want[tok.Results[1].Token] {
		t.Errorf("export over HTTP = %v, want %v", got, want)
	}

	code, body = app.do("POST", "/v1/subjects:export", map[string]any{"subjectId": "cust-http"})
	if code != http.StatusForbidden || !strings.Contains(string(body), `"code":7`) {
		t.Errorf("export as checkout (no subject manager) = HTTP %d %s, want 403 with code 7", code, body)
	}

	// TailAudit follows the log until the caller goes away: read one line,
	// then close the body.
	req, err := http.NewRequest("POST", base+"/v1/admin/audit:tail", strings.NewReader(`{"fromSeq": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer dev-ops-token-00000004")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(line, `"lines"`) {
		t.Errorf("POST /v1/admin/audit:tail first line = HTTP %d %q, %v; want audit lines", resp.StatusCode, line, err)
	}
}
