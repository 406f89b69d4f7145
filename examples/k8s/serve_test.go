package k8s_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privacyvault/privacyvault/client"
	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/server"
)

// TestSidecarConfigServes starts a real sidecar (production mode, not
// --dev) on each manifest's configuration — with the development key
// provider standing in for Vault and the paths moved into a temporary
// directory — and, as the operator's uid, runs an admin call and a
// subject-manager call over the Unix socket, as `kubectl exec -c
// privacyvault -- privacyvault keys status` does in the pod.
func TestSidecarConfigServes(t *testing.T) {
	for _, file := range manifests(t) {
		t.Run(file, func(t *testing.T) {
			o := load(t, file)
			for _, sts := range o.statefulSets {
				var cm string
				for _, v := range sts.Spec.Template.Spec.Volumes {
					if v.ConfigMap != nil && o.configMaps[v.ConfigMap.Name] != nil {
						cm = v.ConfigMap.Name
					}
				}
				cfg, err := config.Parse(cm+"/config.yaml", []byte(o.configMaps[cm].Data["config.yaml"]))
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				sock := strings.TrimPrefix(cfg.Server.Listen, "unix://")
				cfg.Server.Listen = "unix://" + filepath.Join(dir, path.Base(sock))
				cfg.Server.DataDir = filepath.Join(dir, "data")
				cfg.Metrics.Listen = "127.0.0.1:0"
				cfg.Keys.Provider = "dev"
				// This process stands in for the operator's kubectl exec.
				cfg.Identity.UnixUIDs[uint32(os.Getuid())] = cfg.Identity.UnixUIDs[imageUID]
				s, err := server.Start(context.Background(), server.Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err != nil {
					t.Fatalf("server.Start(%s configuration) error = %v", cm, err)
				}
				t.Cleanup(func() { s.Stop() })
				c, err := client.Dial(cfg.Server.Listen, client.WithInsecure())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				st, err := c.KeyStatus(context.Background())
				if err != nil || len(st) != len(cfg.Classes) {
					t.Errorf("KeyStatus() as the operator = %d classes, %v; want %d", len(st), err, len(cfg.Classes))
				}
				if _, err := c.ListConsents(context.Background(), "cust-42"); err != nil {
					t.Errorf("ListConsents() as the operator = %v, want allowed (subject manager)", err)
				}
			}
		})
	}
}
