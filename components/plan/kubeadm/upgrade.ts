// A Kubernetes upgrade as data: what runs on each node, and in which order,
// when cluster.kubernetesVersion moves one patch or one minor up. The order
// is kubeadm's (kubernetes.io, "Upgrading kubeadm clusters"): the first
// control plane runs `kubeadm upgrade apply`, the other control planes
// `kubeadm upgrade node` one at a time, then the workers. Each node: kubeadm
// first, its kubeadm upgrade, then drain, kubelet and kubectl, restart,
// Ready at the new version, uncordon. Pure: the host operations that run
// these scripts are in components/host/kubernetesUpgrade.ts.
import type { BundleManifest } from "./bundle";
import { imageImports, INSTALL_DIRS, offlinePackagesStep, remoteBundleDir, verifyBundleShell } from "./bundle";
import { onlinePackagesStep } from "./packages";
import { script } from "./scripts";
import { shellQuote as q } from "../shell";
import { snapshotScript, type SnapshotScriptOptions } from "../etcdSnapshot";

export interface UpgradeNodePlan {
  node: string;
  isControlPlane: boolean;
  /** The control plane that runs `kubeadm upgrade apply`; the others run `kubeadm upgrade node`. */
  first: boolean;
  /** The version the node is brought to ("1.36.3"). */
  version: string;
  /** kubeadm at the new version, nothing else touched. */
  kubeadm: string;
  /** `kubeadm upgrade apply` (first) or `kubeadm upgrade node`. */
  upgrade: string;
  /** Once drained: kubelet and kubectl at the new version, the kubelet restarted. */
  kubelet: string;
  /**
   * Air-gapped only: the new version's images into containerd. The first
   * control plane runs it on every node before `kubeadm upgrade apply`: each
   * control plane's static pods need them at its own upgrade, and the kubeadm
   * upgrade of the last control plane rolls kube-proxy and CoreDNS out on
   * every node at once (kubeadm skips the addons until then).
   */
  images?: string;
}

/** What the first control plane checks and does before any node moves. */
export interface UpgradeChecks {
  /** A fresh etcd snapshot; prints `saved <path>`. */
  snapshot: string;
  /** How many etcd members the cluster must have (its control planes). */
  etcdMembers: number;
}

export interface UpgradeClusterPlan extends UpgradeChecks {
  version: string;
  /** In rollout order. */
  nodes: UpgradeNodePlan[];
}

export interface UpgradeOptions {
  version: string;
  /** The parsed bundle.json of the target version, in air-gapped mode. */
  bundle?: BundleManifest;
  /** How snapshots are taken (`kubeadmSnapshotOptions`); the pre-upgrade one goes with the scheduled ones. */
  snapshot: SnapshotScriptOptions;
  /** kubelet.allowCgroupV1: kubeadm's SystemVerification fails on cgroup v1 from 1.35, as at init and join. */
  allowCgroupV1: boolean;
  /** kubelet.rollout's: how long a node may take to drain, and to be Ready again. */
  drainTimeoutSeconds: number;
  readyTimeoutSeconds: number;
}

/**
 * The upgrade of every node, given in kubeadm's order: the first control
 * plane, the others, the workers (`membershipOrder`, the order they joined in).
 */
export function planUpgrade(order: { name: string; isControlPlane: boolean }[], o: UpgradeOptions): UpgradeClusterPlan {
  const first = order[0];
  if (!first?.isControlPlane) throw new Error(`upgrade plan: the rollout must start with a control plane, not ${first?.name ?? "nothing"}`);
  return {
    version: o.version,
    nodes: order.map((n) => upgradeNode(n.name, n.isControlPlane, n === first, o)),
    snapshot: script("an etcd snapshot before the upgrade", [snapshotScript(o.snapshot).replace(/^#!.*\n/, "")]),
    etcdMembers: order.filter((n) => n.isControlPlane).length,
  };
}

function upgradeNode(node: string, isControlPlane: boolean, first: boolean, o: UpgradeOptions): UpgradeNodePlan {
  const v = o.version;
  const ignore = o.allowCgroupV1 ? " --ignore-preflight-errors=SystemVerification" : "";
  const upgrade = first
    ? [
      // plan checks the cluster's health and the target's skew policy and
      // prints the component versions, before apply changes anything.
      `kubeadm upgrade plan v${v}${ignore} 2>&1`,
      `kubeadm upgrade apply v${v} --yes${ignore} 2>&1`,
    ]
    : [`kubeadm upgrade node${ignore} 2>&1`];
  return {
    node,
    isControlPlane,
    first,
    version: v,
    kubeadm: script(`${node}: kubeadm ${v} for the upgrade`, o.bundle ? offlineKubeadm(o.bundle) : [onlinePackagesStep(node, v, { packages: ["kubeadm"], guard: false }).apply]),
    upgrade: script(`${node}: ${first ? "kubeadm upgrade apply" : "kubeadm upgrade node"} to ${v}`, upgrade),
    kubelet: script(`${node}: kubelet and kubectl ${v}, kubelet restarted`, [
      // The images went in on every node before the first control plane's
      // `kubeadm upgrade apply` (`images`): not imported a second time.
      ...(o.bundle ? [offlinePackagesStep(o.bundle, "", `${remoteBundleDir(v)}/.installed`, { images: false }).apply] : [onlinePackagesStep(node, v, { guard: false }).apply]),
      "systemctl daemon-reload",
      "systemctl restart kubelet",
    ]),
    ...(o.bundle ? { images: script(`${node}: Kubernetes ${v} images into containerd`, offlineImages(o.bundle)) } : {}),
  };
}

/** kubeadm from the bundle (a binary, or the kubeadm .deb), checked against bundle.json first. */
function offlineKubeadm(m: BundleManifest): string[] {
  const named = (f: { path: string }) => /^kubeadm([_.-]|$)/.test(f.path.split("/").pop()!);
  const binary = m.files.find((f) => f.kind === "binary" && named(f));
  const deb = m.files.find((f) => f.kind === "deb" && named(f));
  if (!binary && !deb) throw new Error(`offline bundle ${m.kubernetesVersion}: bundle.json has no kubeadm (binary or .deb): build the bundle with scripts/bundle/build`);
  return [
    verifyBundleShell(m),
    binary
      ? `install -m 0755 ${q(binary.path)} ${q(`${INSTALL_DIRS.binary}/kubeadm`)}`
      : `DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --allow-downgrades --allow-change-held-packages ${q(`./${deb!.path}`)}`,
  ];
}

function offlineImages(m: BundleManifest): string[] {
  return [verifyBundleShell(m), ...imageImports(m.files)];
}

/** One node's line of the rollout that preview prints: `3. lab-3 (worker): 1.35.4 -> 1.36.3`. */
export interface RolloutLine {
  node: string;
  role: "first control plane" | "control plane" | "worker";
  from?: string;
  to: string;
}

/**
 * What preview says before an upgrade: every node in rollout order, with
 * the version it runs and the one it gets. Undefined when no node changes
 * version (a node without Kubernetes yet is installed, not upgraded).
 */
export function rolloutSummary(plan: UpgradeClusterPlan, installed: Record<string, string | undefined>): string | undefined {
  const lines: RolloutLine[] = plan.nodes.map((n) => ({
    node: n.node,
    role: n.first ? "first control plane" : n.isControlPlane ? "control plane" : "worker",
    from: installed[n.node],
    to: n.version,
  }));
  if (!lines.some((l) => l.from !== undefined && l.from !== l.to)) return undefined;
  return [
    `Kubernetes upgrade to ${plan.version}, one node at a time, in this order (a failure stops it there):`,
    ...lines.map((l, i) => {
      const what = l.from === undefined ? "not installed yet: installed at the new version"
        : l.from === l.to ? `${l.to}: already there`
        : `${l.from} -> ${l.to} (${l.role === "first control plane" ? "kubeadm upgrade apply" : "kubeadm upgrade node"}, drain, kubelet, uncordon)`;
      return `  ${i + 1}. ${l.node} (${l.role}): ${what}`;
    }),
  ].join("\n");
}
