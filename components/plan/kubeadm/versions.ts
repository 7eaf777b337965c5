// Everything version-shaped that the install depends on, derived from the
// one pinned `cluster.kubernetesVersion`, so no script guesses a version.

/** "1.36.3" -> "1.36": pkgs.k8s.io has one repository per minor release. */
export function minorOf(version: string): string {
  const m = /^(\d+)\.(\d+)\.\d+$/.exec(version);
  if (!m) throw new Error(`cluster.kubernetesVersion: ${JSON.stringify(version)} is not "1.<minor>.<patch>"`);
  return `${m[1]}.${m[2]}`;
}

/** "1.36.3" -> 36: for comparing releases. */
export function minorNumber(version: string): number {
  return Number(minorOf(version).split(".")[1]);
}

/** The Debian package version pkgs.k8s.io publishes for an upstream release. */
export function debVersion(version: string): string {
  return `${version}-1.1`;
}

export function aptRepoUrl(version: string): string {
  return `https://pkgs.k8s.io/core:/stable:/v${minorOf(version)}/deb/`;
}

/**
 * kubeadm's config API: v1beta4 is served from 1.31 on (and v1beta3 is
 * deprecated there); older releases only know v1beta3.
 */
export function kubeadmApiVersion(version: string): string {
  const minor = minorNumber(version);
  return minor >= 31 ? "kubeadm.k8s.io/v1beta4" : "kubeadm.k8s.io/v1beta3";
}

export const KUBERNETES_PACKAGES = ["kubeadm", "kubelet", "kubectl"] as const;

export function calicoManifestUrl(calicoVersion: string): string {
  // The VXLAN flavour of the manifest: no BGP, no IP-in-IP, so it works on
  // routed VPS networks where neither is allowed through.
  return `https://raw.githubusercontent.com/projectcalico/calico/${calicoVersion}/manifests/calico-vxlan.yaml`;
}

export function kubeVipImage(tag: string): string {
  return `ghcr.io/kube-vip/kube-vip:${tag}`;
}

/** Where ironroot keeps its kubeadm inputs on each host. */
export const KUBEADM_DIR = "/etc/kubernetes/ironroot";
export const BUNDLE_DIR = "/var/lib/ironroot/bundle";

/**
 * flannel (cluster.cni: flannel), as scripts/bundle/build builds it. Not
 * v0.28: its tencentcloud backend needs SDK modules the Go module proxy
 * refuses (403), and flannel builds every backend in.
 */
export const FLANNEL_VERSION = "v0.27.4";
export const FLANNEL_IMAGE = `ghcr.io/flannel-io/flannel:${FLANNEL_VERSION}`;
