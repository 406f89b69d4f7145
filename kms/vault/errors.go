package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/hashicorp/vault/api"

	"github.com/privacyvault/privacyvault/kms"
)

// opError is an error from one Vault operation. It prints one line naming
// the operation and the Vault address, and unwraps to kms.ErrUnavailable
// when Vault could not be reached and to the client's error (for example
// *api.ResponseError) underneath. No token or key material is ever part of
// its message: Vault's error texts and request URLs carry neither.
type opError struct {
	msg   string
	kind  error // kms.ErrUnavailable or nil
	cause error
}

func (e *opError) Error() string { return e.msg }

func (e *opError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.cause}
	}
	return []error{e.kind, e.cause}
}

// opErr wraps err from operation op against Vault at addr.
func opErr(addr, op string, err error) error {
	var oe *opError
	if errors.As(err, &oe) {
		return err
	}
	if unavailable(err) {
		return &opError{
			msg:   fmt.Sprintf("%v: vault: %s: Vault at %s cannot be reached: %s", kms.ErrUnavailable, op, addr, describe(err)),
			kind:  kms.ErrUnavailable,
			cause: err,
		}
	}
	return &opError{msg: fmt.Sprintf("vault: %s (Vault at %s): %s", op, addr, describe(err)), cause: err}
}

// unavailable reports whether err means Vault could not be reached or could
// not serve: connection failures, timeouts, and 5xx or 429 answers. TLS
// verification failures are configuration errors and do not count.
func unavailable(err error) bool {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode >= 500 || re.StatusCode == http.StatusTooManyRequests
	}
	var certErr *tls.CertificateVerificationError
	var authErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &authErr) || errors.As(err, &hostErr) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var opErr *net.OpError
	var netErr net.Error
	return errors.As(err, &opErr) || (errors.As(err, &netErr) && netErr.Timeout())
}

// describe renders err on one line: Vault's own error texts for an HTTP
// error answer, the transport's reason for a failed request, the error's
// message otherwise.
func describe(err error) string {
	var re *api.ResponseError
	if errors.As(err, &re) {
		msg := strings.Join(re.Errors, "; ")
		if msg == "" {
			msg = http.StatusText(re.StatusCode)
		}
		return fmt.Sprintf("HTTP %d: %s", re.StatusCode, msg)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error() // the URL is long and the address is named already
	}
	return err.Error()
}

// statusIs reports whether err is a Vault answer with HTTP status code.
func statusIs(err error, code int) bool {
	var re *api.ResponseError
	return errors.As(err, &re) && re.StatusCode == code
}

// casMismatch reports whether err is KV v2 refusing a write whose
// check-and-set version is stale.
func casMismatch(err error) bool {
	var re *api.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest {
		return false
	}
	for _, e := range re.Errors {
		if strings.Contains(e, "check-and-set") {
			return true
		}
	}
	return false
}
