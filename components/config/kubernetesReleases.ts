// The Kubernetes releases ironroot installs, kept in the code so that a
// version that does not exist, or is past its end of life, is refused at
// config time rather than by apt or kubeadm half-way through `pulumi up`.
//
// Each row was read from the release's own source (k8s.io/kubernetes at that
// tag, cmd/kubeadm/app/constants): the image versions kubeadm pulls, which
// the offline bundle must carry and containerd's sandbox image must match.
// docs/kubernetes.md says when and how this table moves.

export interface KubernetesRelease {
  /** "1.36" */
  minor: string;
  /** The newest patch ironroot was checked against; 0..latestPatch are accepted. */
  latestPatch: number;
  /** Upstream end of life (kubernetes.io/releases), ISO date. */
  endOfLife: string;
  /** Images kubeadm uses at that minor (constants.go: DefaultEtcdVersion, CoreDNSVersion, PauseVersion). */
  etcdImageTag: string;
  coreDnsVersion: string;
  pauseVersion: string;
}

export const KUBERNETES_RELEASES: readonly KubernetesRelease[] = [
  { minor: "1.35", latestPatch: 4, endOfLife: "2027-02-28", etcdImageTag: "3.6.6-0", coreDnsVersion: "v1.13.1", pauseVersion: "3.10.1" },
  { minor: "1.36", latestPatch: 3, endOfLife: "2027-06-28", etcdImageTag: "3.6.8-0", coreDnsVersion: "v1.14.2", pauseVersion: "3.10.2" },
  { minor: "1.37", latestPatch: 2, endOfLife: "2027-10-28", etcdImageTag: "3.7.0-0", coreDnsVersion: "v1.14.6", pauseVersion: "3.10.2" },
];

/**
 * The default: the newest patch of the middle supported minor. It has had
 * two minors of patches behind it and still half a year of support ahead.
 * It moves when its minor is the oldest one in the table.
 */
export const DEFAULT_KUBERNETES_VERSION = "1.36.3";

const supportedList = () => KUBERNETES_RELEASES.map((r) => `${r.minor}.0-${r.minor}.${r.latestPatch}`).join(", ");

/** The table row of a "1.<minor>.<patch>" version, or a message naming what is wrong and what to use. */
export function kubernetesRelease(version: string): KubernetesRelease | string {
  const m = /^(\d+\.\d+)\.(\d+)$/.exec(version);
  if (!m) return `${JSON.stringify(version)} is not a pinned Kubernetes version: use "1.<minor>.<patch>", e.g. "${DEFAULT_KUBERNETES_VERSION}"`;
  const release = KUBERNETES_RELEASES.find((r) => r.minor === m[1]);
  if (!release) {
    return `${version}: Kubernetes ${m[1]} is not supported by ironroot (past its end of life, or not released): ` +
      `use one of ${supportedList()}, e.g. "${DEFAULT_KUBERNETES_VERSION}"`;
  }
  if (Number(m[2]) > release.latestPatch) {
    return `${version}: no such ${release.minor} patch is known to ironroot (the newest is ${release.minor}.${release.latestPatch}): ` +
      `use "${release.minor}.${release.latestPatch}", or add the patch to components/config/kubernetesReleases.ts after checking its kubeadm image versions`;
  }
  return release;
}

/** For callers that hold a version the config already accepted. */
export function releaseOf(version: string): KubernetesRelease {
  const r = kubernetesRelease(version);
  if (typeof r === "string") throw new Error(`cluster.kubernetesVersion: ${r}`);
  return r;
}

/** The newest known patch of the minor before `version`'s ("1.36.3" -> "1.35.4"), or undefined when the table has none. */
export function previousMinorRelease(version: string): string | undefined {
  const i = KUBERNETES_RELEASES.indexOf(releaseOf(version));
  const r = KUBERNETES_RELEASES[i - 1];
  return r ? `${r.minor}.${r.latestPatch}` : undefined;
}
