// The Kubernetes install as data: per node, the packages and endpoint steps
// and the init/join script; for the cluster, the scripts that run on the
// first control plane. Pure: spec (+ kubelet files, + offline manifest) in,
// scripts and files out.
import type { StackSpec } from "../../config/schema";
import { CLUSTER_MARKER } from "../facts";
import type { InventoryNode } from "../inventory";
import { stepScript, type HostStep } from "../step";
import { offlinePackagesStep, remoteBundleDir, type BundleManifest } from "./bundle";
import { endpointPlan, type EndpointPlan } from "./endpoint";
import { flannelCniConfigStep } from "./flannel";
import { initConfig, joinConfig } from "./kubeadmConfig";
import { kubeVipManifest, KUBE_VIP_MANIFEST, needsSuperAdminDuringInit, ADMIN_CONF, SUPER_ADMIN_CONF } from "./kubeVip";
import { haproxyConfig, localLoadBalancerStep } from "./localLoadBalancer";
import { onlinePackagesStep, versionGuard } from "./packages";
import { fileHolds, writeFileAtomically } from "../shell";
import { planRemovals, staleMemberScript, type RemovalPlan } from "./removal";
import {
  adminKubeconfigScript, cniScript, credentialsScript, initScript, joinScript, waitReadyScript, type PlacedFile,
} from "./scripts";
import { configDirProblem } from "../kubelet/dropIn";
import { calicoManifestUrl } from "./versions";
import { planUpgrade, type UpgradeClusterPlan, type UpgradeOptions } from "./upgrade";
import { kubeadmSnapshotOptions } from "../etcdSnapshot";

/**
 * The seam to the kubelet plan (`kubeletDropIns` in ../kubelet): the node's
 * kubelet drop-in file. The kubelet component normally writes it as a gate
 * before init/join; given here, the bootstrap script writes it too, for a
 * `render` that shows the whole node.
 */
export interface KubeletFile {
  path: string;
  content: string;
}

export interface KubeadmOptions {
  /** Per node name; optional (see KubeletFile). */
  kubelet?: Record<string, KubeletFile>;
  /** The parsed bundle.json when cluster.offlineBundleDir is set. */
  bundle?: BundleManifest;
  /** How long to wait for every node to be Ready. Default: kubelet.rollout.readyTimeoutSeconds. */
  readyTimeoutSeconds?: number;
}

export interface KubeadmNodePlan {
  name: string;
  address: string;
  isControlPlane: boolean;
  initializes: boolean;
  /** Idempotent steps before init/join: packages, then the local load balancer. */
  steps: HostStep[];
  /** The kubeadm config this node uses (join configs with credential placeholders). */
  kubeadmConfig: string;
  /** `kubeadm init` on the first control plane, `kubeadm join` elsewhere (credentials on stdin): what render shows. */
  bootstrap: string;
  /** On every control plane: `kubeadm init` for when this node is the one that starts a new cluster. */
  init?: string;
  /** On every node: `kubeadm join` (credentials on stdin), for when a cluster already runs. */
  join: string;
  /** Control planes: run on the control plane it joins through, just before the join (a replaced machine's old etcd member). */
  staleMember?: string;
}

export interface KubeadmClusterPlan {
  endpoint: EndpointPlan;
  kubernetesVersion: string;
  /** The node every cluster-wide script runs on. */
  firstControlPlane: string;
  credentials: string;
  cni: string;
  waitReady: string;
  adminKubeconfig: string;
  nodes: KubeadmNodePlan[];
  /** Hosts marked `remove`, in the order they are taken out. */
  removals: RemovalPlan[];
  /** What a version change runs (`planUpgrade` orders it once the first control plane is known). */
  upgrade: UpgradeOptions;
}

export function planKubeadm(spec: StackSpec, nodes: InventoryNode[], opts: KubeadmOptions = {}): KubeadmClusterPlan {
  const cluster = spec.cluster;
  const endpoint = endpointPlan(cluster, nodes);
  // By name, not config order: moving hosts around changes no node's files.
  const cps = nodes.filter((n) => n.isControlPlane).sort((a, b) => a.name.localeCompare(b.name));
  const first = nodes.find((n) => n.initializes)!;
  // One for the whole cluster: the config refuses control planes that differ.
  const etcdDataDir = cps[0]?.etcdDataDir ?? "/var/lib/etcd";
  if (cluster.offlineBundleDir && !opts.bundle) {
    throw new Error(`cluster.offlineBundleDir: the bundle manifest was not read: load ${cluster.offlineBundleDir}/bundle.json before planning`);
  }
  const version = cluster.kubernetesVersion;
  const lbStep = cluster.endpoint.mode === "local-lb"
    ? localLoadBalancerStep(haproxyConfig(cps, cluster.endpoint.localPort, endpoint.apiServerPort))
    : undefined;
  const ep = cluster.endpoint;

  const nodePlans = nodes.map((node): KubeadmNodePlan => {
    const kubelet = opts.kubelet?.[node.name];
    // The kubelet component writes its drop-in before init/join (it is one of
    // the gates); the directory is enabled whenever the release supports it,
    // so a drop-in written later is read on the next kubelet restart too.
    const inputs = { cluster, endpoint, etcdDataDir, hasKubeletDropIn: configDirProblem(version) === undefined, allowCgroupV1: spec.kubelet.allowCgroupV1 };
    const files: PlacedFile[] = [];
    if (kubelet) files.push({ path: kubelet.path, content: kubelet.content, mode: "0644" });
    const steps: HostStep[] = [
      clusterMarkerStep(spec.cluster.name),
      opts.bundle ? offlinePackagesStep(opts.bundle, versionGuard(node.name, version), `${remoteBundleDir(version)}/.installed`) : onlinePackagesStep(node.name, version),
    ];
    if (lbStep) steps.push(lbStep);
    if (cluster.cni === "flannel") steps.push(flannelCniConfigStep());
    // Which node starts the cluster is decided on the hosts (the first
    // control plane that finds none running), so every control plane gets
    // an init script and every node a join script.
    // kube-vip on 1.29+ uses super-admin.conf until init has made admin.conf work.
    const swapIfInit = ep.mode === "vip" && needsSuperAdminDuringInit(version);
    const vipFile = (kubeconfig: string): PlacedFile[] => ep.mode === "vip" && node.isControlPlane
      ? [{ path: KUBE_VIP_MANIFEST, content: kubeVipManifest({ address: ep.address, interface: ep.interface, port: ep.port, tag: ep.kubeVipVersion, kubeconfig }), mode: "0600" }]
      : [];
    const joinCfg = joinConfig(node, inputs);
    const initCfg = node.isControlPlane ? initConfig(node, inputs) : undefined;
    const join = joinScript({ node, version, config: joinCfg, files: [...files, ...vipFile(ADMIN_CONF)] });
    const init = initCfg === undefined
      ? undefined
      : initScript({ node, version, config: initCfg, files: [...files, ...vipFile(swapIfInit ? SUPER_ADMIN_CONF : ADMIN_CONF)], kubeVipSwap: swapIfInit });
    return {
      name: node.name,
      address: node.address,
      isControlPlane: node.isControlPlane,
      initializes: node.initializes,
      steps,
      kubeadmConfig: node.initializes ? initCfg! : joinCfg,
      bootstrap: node.initializes ? init! : join,
      ...(init ? { init } : {}),
      join,
      ...(node.isControlPlane ? { staleMember: staleMemberScript(node.name, node.address) } : {}),
    };
  });

  const cniFile = opts.bundle?.files.find((f) => f.kind === "cni-manifest");
  return {
    endpoint,
    kubernetesVersion: version,
    firstControlPlane: first.name,
    credentials: credentialsScript(),
    cni: cniScript({
      cni: cluster.cni,
      source: cniFile ? `${remoteBundleDir(version)}/${cniFile.path}` : calicoManifestUrl(cluster.calicoVersion),
      calicoVersion: cluster.calicoVersion,
      podCidr: cluster.podCidr,
    }),
    waitReady: waitReadyScript(nodes.map((n) => n.name).sort(), opts.readyTimeoutSeconds ?? spec.kubelet.rollout.readyTimeoutSeconds),
    adminKubeconfig: adminKubeconfigScript(`https://${endpoint.controlPlaneEndpoint}`, endpoint.externalServer),
    nodes: nodePlans,
    removals: planRemovals(spec.hosts, spec.kubelet.rollout.drainTimeoutSeconds),
    upgrade: {
      version,
      ...(opts.bundle ? { bundle: opts.bundle } : {}),
      snapshot: kubeadmSnapshotOptions(spec.etcdSnapshots),
      allowCgroupV1: spec.kubelet.allowCgroupV1,
      drainTimeoutSeconds: spec.kubelet.rollout.drainTimeoutSeconds,
      readyTimeoutSeconds: spec.kubelet.rollout.readyTimeoutSeconds,
    },
  };
}

/** One node's place in the order nodes become members. */
export interface MembershipStep {
  node: KubeadmNodePlan;
  /** Members that must be in first. */
  after: string[];
  /** Only the initializer: every node's gates (disk, kubelet file, bundle) pass first. */
  afterEveryGate: boolean;
}

/**
 * The order nodes become members: the initializer first, once every node's
 * gates passed; the other control planes one at a time (etcd grows by one
 * member and must reach quorum again); the workers after every control
 * plane. The Pulumi layer only turns this into dependencies.
 */
export function membershipOrder(nodes: KubeadmNodePlan[], initializer: string): MembershipStep[] {
  const cps = nodes.filter((n) => n.isControlPlane);
  const first = cps.find((n) => n.name === initializer);
  if (!first) throw new Error(`kubeadm plan: initializer ${initializer} is not a control plane of the plan`);
  const others = cps.filter((n) => n !== first);
  return [
    { node: first, after: [], afterEveryGate: true },
    ...others.map((n, i) => ({ node: n, after: [i === 0 ? first.name : others[i - 1].name], afterEveryGate: false })),
    ...nodes.filter((n) => !n.isControlPlane).map((n) => ({ node: n, after: cps.map((c) => c.name), afterEveryGate: false })),
  ];
}

/** The upgrade of the plan's nodes, in the order they joined, `first` (a control plane) running `kubeadm upgrade apply`. */
export function clusterUpgrade(plan: KubeadmClusterPlan, first: string): UpgradeClusterPlan {
  return planUpgrade(membershipOrder(plan.nodes, first).map((s) => s.node), plan.upgrade);
}

/** A node's steps as standalone scripts, in order (what render writes). */
export function stepScripts(node: KubeadmNodePlan): { id: string; script: string }[] {
  return node.steps.map((s) => ({ id: s.id, script: stepScript(s) }));
}

/**
 * Records which ironroot cluster owns this host before Kubernetes goes on it,
 * so that on later runs preflight knows the API server, etcd and kubelet
 * ports are held by this cluster and not by something in the way.
 */
export function clusterMarkerStep(clusterName: string): HostStep {
  const content = `${clusterName}\n`;
  return {
    id: "kubeadm/cluster-marker",
    title: `This host is marked as a node of cluster "${clusterName}"`,
    probe: fileHolds(CLUSTER_MARKER, content),
    apply: writeFileAtomically(CLUSTER_MARKER, content, "0644"),
  };
}
