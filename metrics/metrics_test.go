package metrics_test

import (
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/metrics"
)

func TestWriteTo(t *testing.T) {
	r := metrics.New()
	a := metrics.Alerts{R: r}
	a.Alert("quota")
	a.Alert("quota")
	a.Alert("honeytoken")
	a.AuditFailed()
	var b strings.Builder
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP privacyvault_alerts_total Breach-detection alerts raised, by kind.
# TYPE privacyvault_alerts_total counter
privacyvault_alerts_total{kind="honeytoken"} 1
privacyvault_alerts_total{kind="quota"} 2
# HELP privacyvault_audit_failures_total Calls refused because the audit event could not be written.
# TYPE privacyvault_audit_failures_total counter
privacyvault_audit_failures_total 1
`
	if b.String() != want {
		t.Errorf("WriteTo() =\n%s\nwant\n%s", b.String(), want)
	}
	if got := r.Get("privacyvault_alerts_total", "kind", "quota"); got != 2 {
		t.Errorf("Get(alerts, quota) = %v, want 2", got)
	}
}
