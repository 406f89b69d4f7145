// Package k8s_test decodes the Kubernetes manifests of this directory
// strictly into the API types and checks what a cluster would not until
// the pod runs: names, ports, volumes and uids that must agree with each
// other and with the sidecar's own configuration.
package k8s_test

import (
	"maps"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/privacyvault/privacyvault/config"
)

// What the image built by tools/image provides (make image).
const (
	imageBinary = "/usr/local/bin/privacyvault"
	imageUID    = 65532
)

// external objects the manifests name but do not define: the Vault CA is
// published by whoever runs Vault.
var external = map[string]bool{"configmap/vault-ca": true}

type objects struct {
	configMaps   map[string]*corev1.ConfigMap
	services     map[string]*corev1.Service
	accounts     map[string]*corev1.ServiceAccount
	statefulSets map[string]*appsv1.StatefulSet
	netpols      map[string]*networkingv1.NetworkPolicy
	pdbs         map[string]*policyv1.PodDisruptionBudget
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// load decodes every document of every manifest strictly: an unknown or
// misspelt field is an error, as `kubectl apply --validate=strict` makes it.
func load(t *testing.T, file string) objects {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	o := objects{map[string]*corev1.ConfigMap{}, map[string]*corev1.Service{}, map[string]*corev1.ServiceAccount{},
		map[string]*appsv1.StatefulSet{}, map[string]*networkingv1.NetworkPolicy{}, map[string]*policyv1.PodDisruptionBudget{}}
	for i, doc := range docSep.Split(string(b), -1) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%s document %d: %v", file, i, err)
		}
		if tm.Kind == "" {
			if strings.TrimSpace(stripComments(doc)) != "" {
				t.Errorf("%s document %d has no kind", file, i)
			}
			continue
		}
		var obj interface{ GetName() string }
		var into func()
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ConfigMap":
			x := &corev1.ConfigMap{}
			obj, into = x, func() { o.configMaps[x.Name] = x }
		case "v1 Service":
			x := &corev1.Service{}
			obj, into = x, func() { o.services[x.Name] = x }
		case "v1 ServiceAccount":
			x := &corev1.ServiceAccount{}
			obj, into = x, func() { o.accounts[x.Name] = x }
		case "apps/v1 StatefulSet":
			x := &appsv1.StatefulSet{}
			obj, into = x, func() { o.statefulSets[x.Name] = x }
		case "networking.k8s.io/v1 NetworkPolicy":
			x := &networkingv1.NetworkPolicy{}
			obj, into = x, func() { o.netpols[x.Name] = x }
		case "policy/v1 PodDisruptionBudget":
			x := &policyv1.PodDisruptionBudget{}
			obj, into = x, func() { o.pdbs[x.Name] = x }
		default:
			t.Fatalf("%s document %d: unexpected %s %s", file, i, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s document %d (%s): %v", file, i, tm.Kind, err)
		}
		if obj.GetName() == "" {
			t.Errorf("%s document %d (%s) has no name", file, i, tm.Kind)
		}
		into()
	}
	return o
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func manifests(t *testing.T) []string {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("manifests = %v, %v; want checkout-with-sidecar.yaml and vaultless-replicated.yaml", files, err)
	}
	return files
}

// selects reports whether a selector's labels all appear in labels.
func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func container(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

func mountPath(c *corev1.Container, volume string) string {
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m.MountPath
		}
	}
	return ""
}

// mountOf returns the volume whose mount in c holds file.
func mountOf(c *corev1.Container, file string) (string, bool) {
	for _, m := range c.VolumeMounts {
		if strings.HasPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/") || file == m.MountPath {
			return m.Name, true
		}
	}
	return "", false
}

func env(c *corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func hasPort(pod *corev1.PodSpec, name string, number int32) bool {
	for _, c := range slices.Concat(pod.InitContainers, pod.Containers) {
		for _, p := range c.Ports {
			if (name != "" && p.Name == name) || (name == "" && p.ContainerPort == number) {
				return true
			}
		}
	}
	return false
}

func TestManifests(t *testing.T) {
	for _, file := range manifests(t) {
		t.Run(file, func(t *testing.T) {
			o := load(t, file)
			if len(o.statefulSets) == 0 {
				t.Fatal("no StatefulSet")
			}
			for _, sts := range o.statefulSets {
				checkStatefulSet(t, o, sts)
			}
			checkServices(t, o)
			checkNetworkPolicies(t, o)
			checkPDBs(t, o)
		})
	}
}

func checkStatefulSet(t *testing.T, o objects, sts *appsv1.StatefulSet) {
	pod := &sts.Spec.Template.Spec
	labels := sts.Spec.Template.Labels
	if !selects(sts.Spec.Selector.MatchLabels, labels) {
		t.Errorf("StatefulSet %s: selector %v does not match its pods %v", sts.Name, sts.Spec.Selector.MatchLabels, labels)
	}
	svc := o.services[sts.Spec.ServiceName]
	switch {
	case svc == nil:
		t.Errorf("StatefulSet %s: serviceName %q names no Service", sts.Name, sts.Spec.ServiceName)
	case svc.Spec.ClusterIP != corev1.ClusterIPNone || !selects(svc.Spec.Selector, labels):
		t.Errorf("StatefulSet %s: Service %s must be headless and select its pods", sts.Name, svc.Name)
	}
	if pod.ServiceAccountName == "" || o.accounts[pod.ServiceAccountName] == nil {
		t.Errorf("StatefulSet %s: service account %q not defined (Vault Kubernetes auth logs in with it)", sts.Name, pod.ServiceAccountName)
	}

	// The sidecar: a native sidecar running the image's binary as its user.
	pv := container(pod.InitContainers, "privacyvault")
	if pv == nil {
		t.Fatalf("StatefulSet %s: no privacyvault init container (native sidecar)", sts.Name)
	}
	if pv.RestartPolicy == nil || *pv.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Errorf("privacyvault: restartPolicy = %v, want Always (a native sidecar starts before the app)", pv.RestartPolicy)
	}
	sc := pv.SecurityContext
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != imageUID || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("privacyvault: securityContext = %+v, want user %d, non-root, read-only root, no privilege escalation", sc, imageUID)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.FSGroup == nil {
		t.Errorf("StatefulSet %s: no fsGroup: the app could not open the socket nor the sidecar its volume", sts.Name)
	}

	// Its configuration: mounted where --config says, valid, and agreeing
	// with the pod.
	i := slices.Index(pv.Args, "--config")
	if i < 0 || i+1 >= len(pv.Args) {
		t.Fatalf("privacyvault: args %q have no --config", pv.Args)
	}
	cfgFile := pv.Args[i+1]
	vol, ok := mountOf(pv, cfgFile)
	if !ok {
		t.Fatalf("privacyvault: %s is on no mounted volume", cfgFile)
	}
	var cm *corev1.ConfigMap
	for _, v := range pod.Volumes {
		if v.Name == vol && v.ConfigMap != nil {
			cm = o.configMaps[v.ConfigMap.Name]
		}
	}
	if cm == nil {
		t.Fatalf("privacyvault: volume %s holding %s is not a ConfigMap of this file", vol, cfgFile)
	}
	data, ok := cm.Data[path.Base(cfgFile)]
	if !ok {
		t.Fatalf("ConfigMap %s has no key %s", cm.Name, path.Base(cfgFile))
	}
	cfg, err := config.Parse(cm.Name+"/"+path.Base(cfgFile), []byte(data))
	if err != nil {
		t.Fatalf("sidecar configuration: %v", err)
	}

	// Probes through `privacyvault health` on the configured socket.
	listen := cfg.Server.Listen
	probes := map[string]*corev1.Probe{"startup": pv.StartupProbe, "readiness": pv.ReadinessProbe, "liveness": pv.LivenessProbe}
	for name, p := range probes {
		if p == nil || p.Exec == nil {
			t.Errorf("privacyvault: no exec %s probe", name)
			continue
		}
		cmd := p.Exec.Command
		j := slices.Index(cmd, "--addr")
		if len(cmd) < 2 || cmd[0] != imageBinary || cmd[1] != "health" || j < 0 || j+1 >= len(cmd) || cmd[j+1] != listen {
			t.Errorf("privacyvault %s probe = %q, want %s health --addr %s", name, cmd, imageBinary, listen)
		}
	}

	// The socket: on an emptyDir that the sidecar and every app container mount.
	sock, ok := strings.CutPrefix(listen, "unix://")
	if !ok {
		t.Fatalf("server.listen = %q, want a Unix socket shared with the app", listen)
	}
	sockVol, ok := mountOf(pv, sock)
	if !ok {
		t.Fatalf("privacyvault: socket %s is on no mounted volume", sock)
	}
	for _, v := range pod.Volumes {
		if v.Name == sockVol && v.EmptyDir == nil {
			t.Errorf("socket volume %s is not an emptyDir", sockVol)
		}
	}
	// The Go heap's soft limit must sit below the container's hard one.
	if lim, ok := pv.Resources.Limits[corev1.ResourceMemory]; ok {
		soft, err := resource.ParseQuantity(strings.TrimSuffix(env(pv, "GOMEMLIMIT"), "B"))
		if err != nil || soft.Cmp(lim) >= 0 {
			t.Errorf("privacyvault: GOMEMLIMIT = %q (%v), want set below the memory limit %s", env(pv, "GOMEMLIMIT"), err, lim.String())
		}
	}
	if got := env(pv, "PRIVACYVAULT_ADDR"); got != listen {
		t.Errorf("privacyvault: PRIVACYVAULT_ADDR = %q, want %q so kubectl exec commands find the socket", got, listen)
	}
	for _, app := range pod.Containers {
		if mountPath(&app, sockVol) != mountPath(pv, sockVol) {
			t.Errorf("container %s: mounts %s at %q, want %q as the sidecar", app.Name, sockVol, mountPath(&app, sockVol), mountPath(pv, sockVol))
		}
		if got := env(&app, "PRIVACYVAULT_ADDR"); got != listen {
			t.Errorf("container %s: PRIVACYVAULT_ADDR = %q, want %q", app.Name, got, listen)
		}
		// Identities: the app's uid maps to an identity that has grants.
		if app.SecurityContext == nil || app.SecurityContext.RunAsUser == nil {
			t.Errorf("container %s: no runAsUser, so the sidecar cannot identify it", app.Name)
			continue
		}
		id, ok := cfg.Identity.UnixUIDs[uint32(*app.SecurityContext.RunAsUser)]
		if !ok {
			t.Errorf("container %s: uid %d is not in identity.unix_uids", app.Name, *app.SecurityContext.RunAsUser)
		}
		if !slices.ContainsFunc(cfg.Policy.Grants, func(g config.Grant) bool { return g.Identity == id }) {
			t.Errorf("container %s: identity %q has no grant", app.Name, id)
		}
	}
	// kubectl exec -c privacyvault runs as the sidecar's user: the operator.
	op, ok := cfg.Identity.UnixUIDs[imageUID]
	if !ok || !slices.Contains(cfg.Admins, op) || !(slices.Contains(cfg.SubjectManagers, op) || slices.Contains(cfg.Admins, op)) {
		t.Errorf("uid %d (kubectl exec into the sidecar) = %q, want an identity among admins and subject managers", imageUID, op)
	}

	// Data on the claim template; Vault CA on a mounted volume.
	dataVol, ok := mountOf(pv, cfg.Server.DataDir+"/x")
	if !ok || !slices.ContainsFunc(sts.Spec.VolumeClaimTemplates, func(c corev1.PersistentVolumeClaim) bool { return c.Name == dataVol }) {
		t.Errorf("data_dir %s is not on a volumeClaimTemplate (mounted volume %q)", cfg.Server.DataDir, dataVol)
	}
	if cfg.Keys.Provider != "vault" {
		t.Errorf("keys.provider = %q, want vault in a cluster", cfg.Keys.Provider)
	} else if _, ok := mountOf(pv, cfg.Keys.Vault.CAFile); !ok {
		t.Errorf("keys.vault.ca_file %s is on no mounted volume", cfg.Keys.Vault.CAFile)
	}

	// Metrics: the configured port is the container port Prometheus scrapes.
	_, port, err := net.SplitHostPort(cfg.Metrics.Listen)
	if err != nil {
		t.Fatalf("metrics.listen = %q: %v", cfg.Metrics.Listen, err)
	}
	n, _ := strconv.Atoi(port)
	if !slices.ContainsFunc(pv.Ports, func(p corev1.ContainerPort) bool { return p.Name == "metrics" && p.ContainerPort == int32(n) }) {
		t.Errorf("privacyvault: no containerPort metrics = %d (metrics.listen %s)", n, cfg.Metrics.Listen)
	}
	if got := sts.Spec.Template.Annotations["prometheus.io/port"]; got != port {
		t.Errorf("prometheus.io/port = %q, want %s", got, port)
	}

	// Volumes: every mount names a volume, every volume is used, every
	// ConfigMap exists.
	vols := map[string]bool{}
	for _, v := range pod.Volumes {
		vols[v.Name] = true
		if v.ConfigMap != nil && o.configMaps[v.ConfigMap.Name] == nil && !external["configmap/"+v.ConfigMap.Name] {
			t.Errorf("volume %s: ConfigMap %s is not defined", v.Name, v.ConfigMap.Name)
		}
	}
	for _, c := range sts.Spec.VolumeClaimTemplates {
		vols[c.Name] = true
	}
	used := map[string]bool{}
	for _, c := range slices.Concat(pod.InitContainers, pod.Containers) {
		for _, m := range c.VolumeMounts {
			used[m.Name] = true
			if !vols[m.Name] {
				t.Errorf("container %s mounts %s, which is no volume", c.Name, m.Name)
			}
		}
	}
	for v := range vols {
		if !used[v] {
			t.Errorf("volume %s is mounted by no container", v)
		}
	}
}

// podOf returns the StatefulSet whose pods sel selects.
func podOf(o objects, sel map[string]string) *appsv1.StatefulSet {
	for _, s := range o.statefulSets {
		if selects(sel, s.Spec.Template.Labels) {
			return s
		}
	}
	return nil
}

func checkServices(t *testing.T, o objects) {
	for _, svc := range o.services {
		sts := podOf(o, svc.Spec.Selector)
		if sts == nil {
			t.Errorf("Service %s selects no pods (%v)", svc.Name, svc.Spec.Selector)
			continue
		}
		for _, p := range svc.Spec.Ports {
			tp := p.TargetPort
			if !hasPort(&sts.Spec.Template.Spec, tp.StrVal, tp.IntVal) {
				t.Errorf("Service %s port %s: target %s is no container port of %s", svc.Name, p.Name, tp.String(), sts.Name)
			}
		}
	}
}

func checkNetworkPolicies(t *testing.T, o objects) {
	if len(o.netpols) == 0 {
		t.Error("no NetworkPolicy")
	}
	for _, np := range o.netpols {
		sts := podOf(o, np.Spec.PodSelector.MatchLabels)
		if sts == nil {
			t.Errorf("NetworkPolicy %s selects no pods", np.Name)
			continue
		}
		for _, r := range np.Spec.Ingress {
			for _, p := range r.Ports {
				if p.Port == nil || !hasPort(&sts.Spec.Template.Spec, p.Port.StrVal, p.Port.IntVal) {
					t.Errorf("NetworkPolicy %s admits port %v, which %s does not expose", np.Name, p.Port, sts.Name)
				}
			}
		}
	}
}

func checkPDBs(t *testing.T, o objects) {
	for _, pdb := range o.pdbs {
		sts := podOf(o, pdb.Spec.Selector.MatchLabels)
		if sts == nil {
			t.Errorf("PodDisruptionBudget %s selects no pods", pdb.Name)
			continue
		}
		replicas := int32(1)
		if sts.Spec.Replicas != nil {
			replicas = *sts.Spec.Replicas
		}
		if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntVal >= replicas {
			t.Errorf("PodDisruptionBudget %s: minAvailable %v of %d replicas blocks every drain", pdb.Name, pdb.Spec.MinAvailable, replicas)
		}
	}
	// A single replica gets no budget: it would either block drains or do nothing.
	for _, sts := range o.statefulSets {
		if sts.Spec.Replicas != nil && *sts.Spec.Replicas > 1 && !slices.ContainsFunc(slices.Collect(maps.Values(o.pdbs)), func(p *policyv1.PodDisruptionBudget) bool {
			return selects(p.Spec.Selector.MatchLabels, sts.Spec.Template.Labels)
		}) {
			t.Errorf("StatefulSet %s has %d replicas and no PodDisruptionBudget", sts.Name, *sts.Spec.Replicas)
		}
	}
}
