package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/examples"
	"github.com/privacyvault/privacyvault/server/servertest"
)

// TestCheckoutKeepsOnlyTokens runs the sample service against a real
// sidecar: orders hold tokens, and charging reads the card for payment.
func TestCheckoutKeepsOnlyTokens(t *testing.T) {
	h := servertest.Start(t, servertest.Options{Config: examples.Config})
	shop := &Shop{vault: h.Client("dev-checkout-token-0001")}
	srv := httptest.NewServer(shop.Handler())
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/orders", "application/json",
		strings.NewReader(`{"customer":"cust-42","email":"alice@example.com","card":"4111111111111111"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /orders = %d, want 200", resp.StatusCode)
	}
	shop.mu.Lock()
	o := shop.orders[0]
	shop.mu.Unlock()
	if !strings.HasPrefix(o.CardToken, "pvt_") || strings.Contains(o.EmailToken, "alice") {
		t.Errorf("stored order = %+v, want tokens only", o)
	}
	rec := httptest.NewRecorder()
	shop.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/orders/1/charge", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "ending in 1111") {
		t.Errorf("GET /orders/1/charge = %d %q, want a charge to the card ending in 1111", rec.Code, rec.Body.String())
	}
	bad, err := http.Post(srv.URL+"/orders", "application/json", strings.NewReader(`{"customer":"c","email":"x@example.com","card":"4111111111111112"}`))
	if err != nil {
		t.Fatal(err)
	}
	bad.Body.Close()
	if bad.StatusCode != http.StatusBadRequest {
		t.Errorf("POST /orders with a card failing Luhn = %d, want 400", bad.StatusCode)
	}
}
