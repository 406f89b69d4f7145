// Command checkout is a sample service that keeps no personal data: it
// hands e-mail addresses and card numbers to its privacyvault sidecar and
// stores only tokens. Run the sidecar (make run), then:
//
//	PRIVACYVAULT_TOKEN=dev-checkout-token-0001 go run ./examples/checkout
//	curl -d '{"customer":"cust-42","email":"alice@example.com","card":"4111111111111111"}' localhost:8080/orders
//	curl localhost:8080/orders/1/charge
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync"

	"github.com/privacyvault/privacyvault/client"
)

// Vault is what the service needs from the sidecar.
type Vault interface {
	TokenizeBatch(ctx context.Context, items []client.TokenizeItem) ([]client.TokenResult, error)
	Detokenize(ctx context.Context, purpose, class, token string, opts ...client.ItemOption) (client.Revealed, error)
}

// Order is what the service stores: tokens, never values.
type Order struct {
	ID         int    `json:"id"`
	Customer   string `json:"customer"`
	EmailToken string `json:"email_token"`
	CardToken  string `json:"card_token"`
}

// Shop is the service.
type Shop struct {
	vault  Vault
	mu     sync.Mutex
	orders []Order
}

// NewOrder is the request body of POST /orders.
type NewOrder struct {
	Customer string `json:"customer"`
	Email    string `json:"email"`
	Card     string `json:"card"`
}

func (s *Shop) create(w http.ResponseWriter, r *http.Request) {
	var in NewOrder
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, "bad JSON", http.StatusBadRequest)
		return
	}
	res, err := s.vault.TokenizeBatch(r.Context(), []client.TokenizeItem{
		{Class: "email", Value: []byte(in.Email), SubjectID: in.Customer},
		{Class: "card_number", Value: []byte(in.Card), SubjectID: in.Customer},
	})
	if err != nil {
		http.Error(w, "privacy vault unavailable", http.StatusServiceUnavailable)
		return
	}
	for _, r := range res {
		if r.Err != nil {
			// The item error says which field is wrong without echoing it.
			http.Error(w, r.Err.Error(), http.StatusBadRequest)
			return
		}
	}
	s.mu.Lock()
	o := Order{ID: len(s.orders) + 1, Customer: in.Customer, EmailToken: res[0].Token, CardToken: res[1].Token}
	s.orders = append(s.orders, o)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(o)
}

// charge reads the card back for purpose "payment" — the one place the
// service needs the value — and would hand it to a payment provider.
func (s *Shop) charge(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	s.mu.Lock()
	ok := err == nil && id >= 1 && id <= len(s.orders)
	var o Order
	if ok {
		o = s.orders[id-1]
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	card, err := s.vault.Detokenize(r.Context(), "payment", "card_number", o.CardToken)
	if err != nil {
		http.Error(w, "card unavailable: "+err.Error(), http.StatusForbidden)
		return
	}
	// A real service would pass card.Value to its payment provider here.
	fmt.Fprintf(w, "charged order %d to a card ending in %s\n", o.ID, last4(card.Value))
}

func last4(v []byte) string {
	if len(v) < 4 {
		return ""
	}
	return string(v[len(v)-4:])
}

// Handler routes the service's endpoints.
func (s *Shop) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", s.create)
	mux.HandleFunc("GET /orders/{id}/charge", s.charge)
	return mux
}

func main() {
	addr := os.Getenv("PRIVACYVAULT_ADDR")
	if addr == "" {
		addr = "127.0.0.1:7443"
	}
	c, err := client.Dial(addr, client.WithInsecure(), client.WithBearerToken(os.Getenv("PRIVACYVAULT_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	shop := &Shop{vault: c}
	// In a pod the Service reaches the app on the pod IP: CHECKOUT_LISTEN=:8080.
	listen := os.Getenv("CHECKOUT_LISTEN")
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	log.Printf("checkout listening on %s", listen)
	if err := http.ListenAndServe(listen, shop.Handler()); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
