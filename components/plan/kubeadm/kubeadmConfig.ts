// The kubeadm configuration documents: InitConfiguration + ClusterConfiguration
// + KubeletConfiguration for the first control plane, a JoinConfiguration for
// every other node. Credentials appear only as placeholders; the join script
// fills them in from stdin at run time.
import { isIP } from "node:net";
import type { ClusterConfig } from "../../config/cluster";
import type { InventoryNode } from "../inventory";
import type { EndpointPlan } from "./endpoint";
import { CONFIG_DIR_ENABLEMENT } from "../kubelet/dropIn";
import { kubeadmApiVersion } from "./versions";
import { toYamlDocs } from "./yamlDocs";

/** Placeholders the join script replaces with the values read from stdin. */
export const PLACEHOLDER = {
  token: "<secret:bootstrapToken>",
  certificateKey: "<secret:certificateKey>",
  caCertHash: "<runtime:caCertHash>",
} as const;

/** kube-proxy's default conntrack.maxPerCore. */
export const KUBE_PROXY_MAX_PER_CORE = 32768;

export const CRI_SOCKET = "unix:///run/containerd/containerd.sock";

const CONTROL_PLANE_TAINT = { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" };

export interface KubeadmInputs {
  cluster: ClusterConfig;
  endpoint: EndpointPlan;
  /** etcd's data dir, shared by every control plane (ClusterConfiguration is cluster-wide). */
  etcdDataDir: string;
  /** Whether the kubelet reads the kubelet plan's drop-in directory (1.30+). */
  hasKubeletDropIn: boolean;
  /** kubelet.allowCgroupV1: the kubelet may run on a cgroup v1 host. */
  allowCgroupV1: boolean;
}

function extraArgs(apiVersion: string, args: Record<string, string>): unknown {
  // v1beta4 turned the extraArgs maps into ordered lists (duplicates allowed).
  if (apiVersion.endsWith("v1beta4")) return Object.entries(args).map(([name, value]) => ({ name, value }));
  return args;
}

function nodeRegistration(apiVersion: string, node: InventoryNode, inputs: KubeadmInputs): Record<string, unknown> {
  const taints: Record<string, unknown>[] = [];
  // A control plane that is also a worker must take pods: an explicit empty
  // list replaces kubeadm's default control-plane taint.
  if (node.isControlPlane && !node.roles.includes("worker")) taints.push({ ...CONTROL_PLANE_TAINT });
  for (const t of node.taints) taints.push(t.value === undefined ? { key: t.key, effect: t.effect } : { key: t.key, value: t.value, effect: t.effect });
  const reg: Record<string, unknown> = { name: node.name, criSocket: CRI_SOCKET, taints };
  // kubeadm's SystemVerification fails on cgroup v1 from 1.35, and the
  // kubelet's failCgroupV1: false is not enough on its own: kubeadm asks for
  // the check to be skipped explicitly as well.
  if (inputs.allowCgroupV1) reg.ignorePreflightErrors = ["SystemVerification"];
  const args: Record<string, string> = {};
  // The kubelet plan's reservations live in a drop-in file kubeadm never
  // rewrites; the kubelet only reads the directory when told to.
  if (inputs.hasKubeletDropIn) {
    for (const a of CONFIG_DIR_ENABLEMENT.kubeadmKubeletExtraArgs) args[a.name] = a.value;
  }
  const labels = Object.entries(node.labels).sort(([a], [b]) => a.localeCompare(b));
  if (labels.length > 0) args["node-labels"] = labels.map(([k, v]) => `${k}=${v}`).join(",");
  if (Object.keys(args).length > 0) reg.kubeletExtraArgs = extraArgs(apiVersion, args);
  return reg;
}

function localApiEndpoint(node: InventoryNode, port: number): Record<string, unknown> {
  // A DNS name cannot be an advertise address; kubeadm then picks the
  // address of the default route's interface.
  return isIP(node.address) ? { advertiseAddress: node.address, bindPort: port } : { bindPort: port };
}

/** Init + Cluster + Kubelet configuration for the control plane that runs `kubeadm init`. */
export function initConfig(node: InventoryNode, inputs: KubeadmInputs): string {
  const apiVersion = kubeadmApiVersion(inputs.cluster.kubernetesVersion);
  return toYamlDocs([
    {
      apiVersion,
      kind: "InitConfiguration",
      localAPIEndpoint: localApiEndpoint(node, inputs.endpoint.apiServerPort),
      nodeRegistration: nodeRegistration(apiVersion, node, inputs),
    },
    {
      apiVersion,
      kind: "ClusterConfiguration",
      clusterName: inputs.cluster.name,
      kubernetesVersion: `v${inputs.cluster.kubernetesVersion}`,
      controlPlaneEndpoint: inputs.endpoint.controlPlaneEndpoint,
      networking: { podSubnet: inputs.cluster.podCidr, serviceSubnet: inputs.cluster.serviceCidr },
      apiServer: { certSANs: inputs.endpoint.certSANs },
      etcd: { local: { dataDir: inputs.etcdDataDir } },
    },
    {
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      // containerd on Debian is set to the systemd cgroup driver by host
      // preparation; both sides must agree or pods restart in a loop.
      cgroupDriver: "systemd",
      // The kubelet refuses cgroup v1 hosts from 1.35 unless this is false;
      // written only when the stack asks for it (kubelet.allowCgroupV1).
      ...(inputs.allowCgroupV1 ? { failCgroupV1: false } : {}),
    },
    // Only when it differs from kube-proxy's default, so kubeadm's own
    // KubeProxyConfiguration stays untouched otherwise.
    ...(inputs.cluster.conntrackMaxPerCore === KUBE_PROXY_MAX_PER_CORE
      ? []
      : [{ apiVersion: "kubeproxy.config.k8s.io/v1alpha1", kind: "KubeProxyConfiguration", conntrack: { maxPerCore: inputs.cluster.conntrackMaxPerCore } }]),
  ]);
}

/** JoinConfiguration for a joining control plane or worker, with credential placeholders. */
export function joinConfig(node: InventoryNode, inputs: KubeadmInputs): string {
  const apiVersion = kubeadmApiVersion(inputs.cluster.kubernetesVersion);
  const doc: Record<string, unknown> = {
    apiVersion,
    kind: "JoinConfiguration",
    discovery: {
      bootstrapToken: {
        apiServerEndpoint: inputs.endpoint.controlPlaneEndpoint,
        token: PLACEHOLDER.token,
        caCertHashes: [PLACEHOLDER.caCertHash],
      },
    },
    nodeRegistration: nodeRegistration(apiVersion, node, inputs),
  };
  if (node.isControlPlane) {
    doc.controlPlane = {
      localAPIEndpoint: localApiEndpoint(node, inputs.endpoint.apiServerPort),
      certificateKey: PLACEHOLDER.certificateKey,
    };
  }
  return toYamlDocs([doc]);
}
