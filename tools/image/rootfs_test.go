package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// extractLayer unpacks the image's one layer into dir with its owners and
// modes, as a container runtime would.
func extractLayer(t *testing.T, oci ociTar, dir string) {
	t.Helper()
	var index struct{ Manifests []descriptor }
	if err := json.Unmarshal(oci["index.json"], &index); err != nil {
		t.Fatal(err)
	}
	var manifest struct{ Layers []descriptor }
	oci.blob(t, index.Manifests[0].Digest, &manifest)
	zr, err := gzip.NewReader(bytes.NewReader(oci.blob(t, manifest.Layers[0].Digest, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			var b []byte
			if b, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(p, b, 0o600)
			}
		default:
			t.Fatalf("layer entry %s: unexpected type %c", h.Name, h.Typeflag)
		}
		if err == nil {
			err = os.Chown(p, h.Uid, h.Gid)
		}
		if err == nil {
			err = os.Chmod(p, os.FileMode(h.Mode&0o777)|modeBits(h.Mode))
		}
		if err != nil {
			t.Fatalf("extract %s: %v", h.Name, err)
		}
	}
}

func modeBits(m int64) os.FileMode {
	var out os.FileMode
	if m&0o1000 != 0 {
		out |= os.ModeSticky
	}
	return out
}

// TestImageServesReadOnly runs the image's file system the way the
// Kubernetes manifests do — root file system read-only, user 65532, data and
// socket directories as volumes — and checks the sidecar serves (health
// over the socket) and wrote only to its volumes. It needs root, chroot
// and a mount namespace (unshare), as CI has; it fails, not skips, without.
func TestImageServesReadOnly(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test runs the image's root file system with chroot and a read-only bind mount: run it as root (CI does)")
	}
	for _, tool := range []string{"unshare", "chroot", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (util-linux, coreutils): %v", tool, err)
		}
	}
	bin := buildBinary(t, "v0.0.0-rootfs")
	img, err := Build(Options{Binary: bin, Version: "v0.0.0-rootfs", Created: time.Unix(0, 0).UTC(), Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteOCI(filepath.Join(dir, "image.tar"), img, "privacyvault:test"); err != nil {
		t.Fatal(err)
	}
	root, data, run := filepath.Join(dir, "rootfs"), filepath.Join(dir, "data"), filepath.Join(dir, "run")
	for _, d := range []string{root, data, run} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{data, run} {
		if err := os.Chown(d, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	extractLayer(t, readOCI(t, filepath.Join(dir, "image.tar")), root)

	// The pod: a read-only root, volumes at the data and socket paths, and
	// the image's entrypoint as its user.
	script := `set -e
mount --bind "$ROOT" "$ROOT"
mount -o remount,bind,ro "$ROOT"
mount --bind "$DATA" "$ROOT/var/lib/privacyvault"
mount --bind "$RUN" "$ROOT/run/privacyvault"
exec chroot --userspec=65532:65532 "$ROOT" /usr/local/bin/privacyvault serve --dev \
	--listen unix:///run/privacyvault/pv.sock --data-dir /var/lib/privacyvault`
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var logs bytes.Buffer
	srv := exec.CommandContext(ctx, "unshare", "-m", "sh", "-c", script)
	srv.Env = append(os.Environ(), "ROOT="+root, "DATA="+data, "RUN="+run)
	srv.Stdout, srv.Stderr = &logs, &logs
	srv.Cancel = func() error { return srv.Process.Signal(syscall.SIGTERM) }
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = srv.Wait(); close(exited) }()
	defer func() {
		cancel()
		<-exited
	}()

	pv := filepath.Join(root, "usr/local/bin/privacyvault")
	sock := "unix://" + filepath.Join(run, "pv.sock")
	var out []byte
	for deadline := time.Now().Add(90 * time.Second); ; {
		out, err = exec.Command(pv, "health", "--addr", sock).CombinedOutput()
		if err == nil {
			break
		}
		select {
		case <-exited:
			t.Fatalf("sidecar exited on a read-only root: %v\n%s", waitErr, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("privacyvault health = %q, %v after 90s\n%s", out, err, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if strings.TrimSpace(string(out)) != "SERVING" {
		t.Errorf("privacyvault health = %q, want SERVING", out)
	}
	for _, p := range []string{"store", "audit", "devkeys"} {
		if fi, err := os.Stat(filepath.Join(data, p)); err != nil || !fi.IsDir() {
			t.Errorf("data volume has no %s directory: %v", p, err)
		}
	}
}
