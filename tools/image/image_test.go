package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// buildBinary builds the sidecar as `make image` does: static, trimmed,
// with a version set at link time.
func buildBinary(t *testing.T, version string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "privacyvault")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags",
		"-s -w -X github.com/privacyvault/privacyvault/internal/version.version="+version, "-o", out, "./cmd/privacyvault")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// ociTar is an OCI image layout read from a tarball with the standard
// library only, independently of the code that wrote it.
type ociTar map[string][]byte

func readOCI(t *testing.T, path string) ociTar {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := ociTar{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = b
	}
	return files
}

func (o ociTar) blob(t *testing.T, digest string, v any) []byte {
	t.Helper()
	b, ok := o["blobs/sha256/"+strings.TrimPrefix(digest, "sha256:")]
	if !ok {
		t.Fatalf("blob %s missing from the layout", digest)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("blob %s: %v", digest, err)
		}
	}
	return b
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Annotations map[string]string `json:"annotations"`
}

// TestImage builds the image twice from one binary, checks the digest is
// reproducible, then reads the tarball: OCI layout, entrypoint, non-root
// user, labels, the files of the layer, and runs the binary found inside.
func TestImage(t *testing.T) {
	const version = "v0.0.0-imagetest"
	bin := buildBinary(t, version)
	o := Options{Binary: bin, Version: version, Revision: "0123abcd", Created: time.Unix(1764460800, 0).UTC(), Arch: "amd64"}
	dir := t.TempDir()
	var tars [2][]byte
	var digests [2]string
	for i := range tars {
		img, err := Build(o)
		if err != nil {
			t.Fatalf("Build() error = %v", err)
		}
		path := filepath.Join(dir, "image.tar")
		if err := WriteOCI(path, img, "privacyvault:"+version); err != nil {
			t.Fatalf("WriteOCI() error = %v", err)
		}
		d, _ := img.Digest()
		digests[i] = d.String()
		tars[i], _ = os.ReadFile(path)
	}
	if digests[0] != digests[1] || !bytes.Equal(tars[0], tars[1]) {
		t.Fatalf("two builds of one binary differ: digests %s and %s", digests[0], digests[1])
	}

	oci := readOCI(t, filepath.Join(dir, "image.tar"))
	if got := string(oci["oci-layout"]); got != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %q", got)
	}
	var index struct{ Manifests []descriptor }
	if err := json.Unmarshal(oci["index.json"], &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index.json = %s, %v; want one manifest", oci["index.json"], err)
	}
	m := index.Manifests[0]
	if m.Digest != digests[0] || m.Annotations["org.opencontainers.image.ref.name"] != "privacyvault:"+version {
		t.Errorf("index manifest = %+v, want digest %s and ref name privacyvault:%s", m, digests[0], version)
	}
	var manifest struct {
		MediaType string
		Config    descriptor
		Layers    []descriptor
	}
	oci.blob(t, m.Digest, &manifest)
	if manifest.MediaType != "application/vnd.oci.image.manifest.v1+json" || manifest.Config.MediaType != "application/vnd.oci.image.config.v1+json" || len(manifest.Layers) != 1 {
		t.Fatalf("manifest = %+v, want an OCI manifest with an OCI config and one layer", manifest)
	}
	var cfg struct {
		Architecture, OS string
		Config           struct {
			Entrypoint, Cmd, Env []string
			User                 string
			Labels               map[string]string
		}
	}
	oci.blob(t, manifest.Config.Digest, &cfg)
	if cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("platform = %s/%s, want linux/amd64", cfg.OS, cfg.Architecture)
	}
	if want := []string{"/usr/local/bin/privacyvault"}; !slices.Equal(cfg.Config.Entrypoint, want) {
		t.Errorf("Entrypoint = %q, want %q", cfg.Config.Entrypoint, want)
	}
	if want := []string{"serve", "--config", "/etc/privacyvault/config.yaml"}; !slices.Equal(cfg.Config.Cmd, want) {
		t.Errorf("Cmd = %q, want %q", cfg.Config.Cmd, want)
	}
	if want := []string{"PATH=/usr/local/bin"}; !slices.Equal(cfg.Config.Env, want) {
		t.Errorf("Env = %q, want %q (no PRIVACYVAULT_* default overriding the config file)", cfg.Config.Env, want)
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("User = %q, want 65532:65532 (non-root)", cfg.Config.User)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.title":    "privacyvault",
		"org.opencontainers.image.version":  version,
		"org.opencontainers.image.revision": "0123abcd",
		"org.opencontainers.image.created":  "2025-11-30T00:00:00Z",
	} {
		if got := cfg.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}

	layer := oci.blob(t, manifest.Layers[0].Digest, nil)
	zr, err := gzip.NewReader(bytes.NewReader(layer))
	if err != nil {
		t.Fatalf("layer is not gzip: %v", err)
	}
	files := map[string]*tar.Header{}
	var binary []byte
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = h
		if h.Name == "usr/local/bin/privacyvault" {
			binary, _ = io.ReadAll(tr)
		}
		if h.Name == "etc/passwd" {
			b, _ := io.ReadAll(tr)
			if !strings.Contains(string(b), "nonroot:x:65532:65532:") {
				t.Errorf("etc/passwd = %q, want the nonroot user 65532", b)
			}
		}
	}
	tests := []struct {
		name string
		mode int64
		uid  int
	}{
		{"usr/local/bin/privacyvault", 0o755, 0},
		{"var/lib/privacyvault/", 0o700, 65532},
		{"run/privacyvault/", 0o770, 65532},
		{"tmp/", 0o1777, 0},
	}
	for _, tt := range tests {
		h := files[tt.name]
		if h == nil {
			t.Errorf("layer has no %s", tt.name)
			continue
		}
		if h.Mode != tt.mode || h.Uid != tt.uid || !h.ModTime.Equal(o.Created) {
			t.Errorf("%s: mode %o uid %d time %v, want %o, %d, %v", tt.name, h.Mode, h.Uid, h.ModTime, tt.mode, tt.uid, o.Created)
		}
	}

	exe := filepath.Join(t.TempDir(), "privacyvault")
	if err := os.WriteFile(exe, binary, 0o755); err != nil {
		t.Fatal(err)
	}
	ef, err := elf.Open(exe)
	if err != nil {
		t.Fatalf("binary in the image is not ELF: %v", err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("binary in the image is dynamically linked; a scratch image needs a static one")
		}
	}
	ef.Close()
	out, err := exec.Command(exe, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "privacyvault "+version+" ") {
		t.Errorf("privacyvault version (from the image) = %q, %v; want privacyvault %s ...", out, err, version)
	}
}

// TestCommand runs the command as `make image` does and checks the digest
// it prints is the one the tarball's index names.
func TestCommand(t *testing.T) {
	bin := buildBinary(t, "v0.0.0-cmdtest")
	out := filepath.Join(t.TempDir(), "img.tar")
	b, err := exec.Command("go", "run", ".", "--binary", bin, "--out", out, "--version", "v0.0.0-cmdtest", "--created", "1764460800").Output()
	if err != nil {
		t.Fatalf("go run . = %v", err)
	}
	fields := strings.Fields(string(b))
	var index struct{ Manifests []descriptor }
	if err := json.Unmarshal(readOCI(t, out)["index.json"], &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index.json: %v", err)
	}
	if len(fields) != 2 || fields[0] != out || fields[1] != index.Manifests[0].Digest {
		t.Errorf("output = %q, want %q and the digest %s", b, out, index.Manifests[0].Digest)
	}
	if _, err := exec.Command("go", "run", ".").Output(); err == nil {
		t.Error("go run . without --binary succeeded, want a usage error")
	}
}
