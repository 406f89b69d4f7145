// Command image builds the privacyvault container image without a Docker
// daemon or a base image: one layer on an empty (scratch) image holding the
// static binary, /etc/passwd and /etc/group entries for the non-root user
// 65532 and the directories the sidecar writes to. Every timestamp is
// fixed, so the same binary gives the same digest. The result is an OCI
// image layout in a tar file (load it with `podman load`, `skopeo copy
// oci-archive:...` or `crane push`).
//
//	go run . --binary ../../bin/image/privacyvault --out ../../bin/privacyvault-image.tar \
//	    --version v1.2.3 --revision <commit> --created <unix seconds>
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's fixed layout.
const (
	binaryPath = "usr/local/bin/privacyvault"
	uid        = 65532 // "nonroot", as in distroless images
	dataDir    = "var/lib/privacyvault"
	socketDir  = "run/privacyvault"
)

// Options says what to build.
type Options struct {
	Binary   string    // the static linux binary
	Version  string    // org.opencontainers.image.version and the ref name
	Revision string    // org.opencontainers.image.revision
	Created  time.Time // every timestamp in the image
	Arch     string
}

func main() {
	var o Options
	var created int64
	out := flag.String("out", "privacyvault-image.tar", "OCI image layout tarball to write")
	flag.StringVar(&o.Binary, "binary", "", "static linux binary of privacyvault (CGO_ENABLED=0)")
	flag.StringVar(&o.Version, "version", "dev", "image version label and ref name")
	flag.StringVar(&o.Revision, "revision", "", "VCS revision label")
	flag.Int64Var(&created, "created", 0, "creation time, unix seconds (e.g. the commit time) for a reproducible digest")
	flag.StringVar(&o.Arch, "arch", runtime.GOARCH, "image architecture (the binary's GOARCH)")
	flag.Parse()
	o.Created = time.Unix(created, 0).UTC()
	if o.Binary == "" {
		fmt.Fprintln(os.Stderr, "image: --binary is required")
		os.Exit(2)
	}
	img, err := Build(o)
	if err == nil {
		err = WriteOCI(*out, img, "privacyvault:"+o.Version)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	d, err := img.Digest()
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	fmt.Printf("%s %s\n", *out, d)
}

// Build returns the image for o.
func Build(o Options) (v1.Image, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootfs(bin, o.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: o.Created}, CreatedBy: "tools/image: privacyvault binary, passwd, data and socket directories",
	}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = o.Arch, "linux"
	cf.Created = v1.Time{Time: o.Created}
	user := strconv.Itoa(uid) + ":" + strconv.Itoa(uid)
	labels := map[string]string{
		"org.opencontainers.image.title":       "privacyvault",
		"org.opencontainers.image.description": "Privacy vault gRPC sidecar: tokenization, FF1 format-preserving encryption, purpose-bound detokenize, hash-chained audit",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.created":     o.Created.Format(time.RFC3339),
		"org.opencontainers.image.source":      "https://github.com/privacyvault/privacyvault",
	}
	if o.Revision != "" {
		labels["org.opencontainers.image.revision"] = o.Revision
	}
	cf.Config = v1.Config{
		Entrypoint: []string{"/" + binaryPath},
		Cmd:        []string{"serve", "--config", "/etc/privacyvault/config.yaml"},
		User:       user,
		WorkingDir: "/" + dataDir,
		// No PRIVACYVAULT_* defaults: they would override the config file.
		// The working directory makes the default data dir (./data) writable.
		Env:          []string{"PATH=/usr/local/bin"},
		Labels:       labels,
		ExposedPorts: map[string]struct{}{"7443/tcp": {}, "9464/tcp": {}},
		Volumes:      map[string]struct{}{"/" + dataDir: {}},
	}
	return mutate.ConfigFile(img, cf)
}

// rootfs is the layer's tar: directories and files with fixed owners,
// modes and times, in a fixed order.
func rootfs(bin []byte, created time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	entry := func(name string, mode int64, owner int, body []byte) error {
		h := &tar.Header{Name: name, Mode: mode, Uid: owner, Gid: owner, ModTime: created, Format: tar.FormatPAX}
		if body == nil {
			h.Typeflag, h.Name = tar.TypeDir, name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", uid, uid)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", uid)
	steps := []struct {
		name  string
		mode  int64
		owner int
		body  []byte
	}{
		{"etc", 0o755, 0, nil},
		{"etc/group", 0o644, 0, []byte(group)},
		{"etc/passwd", 0o644, 0, []byte(passwd)},
		{"etc/privacyvault", 0o755, 0, nil},
		{"home", 0o755, 0, nil},
		{"home/nonroot", 0o700, uid, nil},
		{"run", 0o755, 0, nil},
		{socketDir, 0o770, uid, nil},
		{"tmp", 0o1777, 0, nil},
		{"usr", 0o755, 0, nil},
		{"usr/local", 0o755, 0, nil},
		{"usr/local/bin", 0o755, 0, nil},
		{binaryPath, 0o755, 0, bin},
		{"var", 0o755, 0, nil},
		{"var/lib", 0o755, 0, nil},
		{dataDir, 0o700, uid, nil},
	}
	for _, s := range steps {
		if err := entry(s.name, s.mode, s.owner, s.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteOCI writes img as an OCI image layout (oci-layout, index.json,
// blobs/sha256/...) inside a tar file at path, with fixed tar metadata.
func WriteOCI(path string, img v1.Image, refName string) error {
	manifest, err := img.RawManifest()
	if err != nil {
		return err
	}
	config, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIImageIndex,
		"manifests": []map[string]any{{
			"mediaType":   types.OCIManifestSchema1,
			"digest":      digest.String(),
			"size":        len(manifest),
			"annotations": map[string]string{"org.opencontainers.image.ref.name": refName},
		}},
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	add := func(name string, body []byte) error {
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	blob := func(d v1.Hash, body []byte) error { return add("blobs/sha256/"+d.Hex, body) }
	err = errors.Join(
		add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)),
		add("index.json", index),
		blob(digest, manifest),
	)
	if err == nil {
		cd, cerr := img.ConfigName()
		err = errors.Join(cerr, blob(cd, config))
	}
	for _, l := range layers {
		if err != nil {
			break
		}
		var d v1.Hash
		var body []byte
		if d, err = l.Digest(); err != nil {
			break
		}
		var rc io.ReadCloser
		if rc, err = l.Compressed(); err != nil {
			break
		}
		body, err = io.ReadAll(rc)
		rc.Close()
		if err == nil {
			err = blob(d, body)
		}
	}
	return errors.Join(err, tw.Close(), f.Close())
}
