package client

import (
	"errors"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// ErrorInfo reasons privacyvault sets on its errors (domain
// "privacyvault.dev"). Several share a gRPC code: TOKEN_EXPIRED and
// TOKEN_NOT_FOUND are both NotFound.
const (
	ReasonTokenExpired      = "TOKEN_EXPIRED"
	ReasonTokenNotFound     = "TOKEN_NOT_FOUND"
	ReasonConsentRequired   = "CONSENT_REQUIRED"
	ReasonKeyVersionRetired = "KEY_VERSION_RETIRED"
	ReasonQuotaExceeded     = "QUOTA_EXCEEDED"
	ReasonBatchTooLarge     = "BATCH_TOO_LARGE"
)

// Reason returns the ErrorInfo reason of err (a call error or an item's
// ItemError), or "" when it has none.
func Reason(err error) string {
	if info := errorInfo(err); info != nil {
		return info.GetReason()
	}
	return ""
}

// IsTokenExpired reports whether err says the token existed but its
// retention (class or per-item TTL) has passed.
func IsTokenExpired(err error) bool { return Reason(err) == ReasonTokenExpired }

// IsTokenNotFound reports whether err says the token is unknown (never
// issued here, deleted or erased), as opposed to expired.
func IsTokenNotFound(err error) bool { return Reason(err) == ReasonTokenNotFound }

func errorInfo(err error) *errdetails.ErrorInfo {
	var st interface{ GRPCStatus() *status.Status }
	if err == nil || !errors.As(err, &st) {
		return nil
	}
	for _, d := range st.GRPCStatus().Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// batchLimit returns the server's batch limit from a BATCH_TOO_LARGE error.
func batchLimit(err error) (int, bool) {
	info := errorInfo(err)
	if info.GetReason() != ReasonBatchTooLarge {
		return 0, false
	}
	n, convErr := strconv.Atoi(info.GetMetadata()["max_batch"])
	return n, convErr == nil && n > 0
}
