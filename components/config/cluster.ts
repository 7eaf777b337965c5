import { z } from "zod";
import { DEFAULT_KUBERNETES_VERSION, KUBERNETES_RELEASES, kubernetesRelease } from "./kubernetesReleases";
import { absolutePath, address, cidrV4, dnsLabel, formatIpV4, parseCidrV4, port } from "./fields";

/**
 * The block of the pod network each node gets: kube-controller-manager's
 * `--node-cidr-mask-size` for IPv4, which kubeadm leaves at its default.
 */
export const NODE_MASK_V4 = 24;

const endpoint = z
  .discriminatedUnion("mode", [
    z.strictObject({
      mode: z.literal("local-lb"),
      port: port.default(6443).describe("Port of the API server on each control plane. Default: 6443."),
      localPort: port.default(6444)
        .describe("Port of the per-node load balancer on 127.0.0.1 that forwards to every control plane. Default: 6444."),
    }),
    z.strictObject({
      mode: z.literal("vip"),
      address: address.describe("Virtual IP kube-vip holds on one control plane (needs a shared layer 2)."),
      interface: z.string().min(1).default("eth0").describe("Interface the VIP is announced on. Default: `eth0`."),
      port: port.default(6443).describe("API server port. Default: 6443."),
      kubeVipVersion: z.string().regex(/^v\d+\.\d+\.\d+$/).default("v0.8.9")
        .describe("Pinned kube-vip image tag (ghcr.io/kube-vip/kube-vip). Default: `v0.8.9`."),
    }),
    z.strictObject({
      mode: z.literal("dns"),
      host: address.describe("DNS name (or address) of an external load balancer in front of the control planes."),
      port: port.default(6443).describe("Port on the external load balancer. Default: 6443."),
    }),
  ], {
    error: (iss) =>
      iss.code !== "invalid_union"
        ? undefined
        : (iss.input as { mode?: unknown } | undefined)?.mode === undefined
          ? "is required: one of local-lb, vip, dns"
          : `${JSON.stringify((iss.input as { mode: unknown }).mode)} is not one of: local-lb, vip, dns`,
  })
  .prefault({ mode: "local-lb" })
  .describe("How nodes and clients reach the API server. Default: `{mode: local-lb}`.");

export const cluster = z
  .strictObject({
    name: dnsLabel("cluster name").default("ironroot").describe("Cluster name, used in the kubeconfig. Default: `ironroot`."),
    production: z.boolean().default(false)
      .describe("Marks the stack as production: destructive GitOps settings need an explicit acknowledgement. Default: false."),
    kubernetesVersion: z
      .string()
      .check((ctx) => {
        const release = kubernetesRelease(ctx.value);
        if (typeof release === "string") ctx.issues.push({ code: "custom", message: release, input: ctx.value });
      })
      .default(DEFAULT_KUBERNETES_VERSION)
      .describe(
        `Exact upstream Kubernetes version (kubeadm, kubelet, kubectl), one ironroot supports: ${KUBERNETES_RELEASES.map((r) => `${r.minor}.0-${r.minor}.${r.latestPatch}`).join(", ")}. Default: \`${DEFAULT_KUBERNETES_VERSION}\`.`,
      ),
    podCidr: cidrV4.default("10.244.0.0/16")
      .describe(`Pod network. Each node gets a /${NODE_MASK_V4} of it, so it needs at least one /${NODE_MASK_V4} per host. Default: \`10.244.0.0/16\`.`),
    serviceCidr: cidrV4.default("10.96.0.0/12").describe("Service network. Default: `10.96.0.0/12`."),
    endpoint,
    cni: z.enum(["calico", "flannel"]).default("calico")
      .describe("The pod network. `calico` (VXLAN, NetworkPolicy); `flannel` (VXLAN, no NetworkPolicy), for air-gapped bundles from `scripts/bundle/build`, which can build flannel but not Calico. Default: `calico`."),
    calicoVersion: z.string().regex(/^v\d+\.\d+\.\d+$/, { error: (iss) => `${JSON.stringify(iss.input)} is not a Calico release tag: use e.g. "v3.30.3"` })
      .default("v3.30.3")
      .describe("Pinned Calico release (the CNI, VXLAN mode: works without a shared layer 2, enforces NetworkPolicy). Default: `v3.30.3`."),
    conntrackMaxPerCore: z.number().int().min(0).max(1_048_576, { error: "at most 1048576: nf_conntrack_max is this per CPU, and each entry costs kernel memory" }).default(32768)
      .describe("kube-proxy's `conntrack.maxPerCore`: nf_conntrack_max becomes this times the CPUs (at least 131072). 0 leaves the host's limit as it is, for hosts whose kernel is not theirs to tune (system containers such as LXC). Default: 32768, kube-proxy's own."),
    offlineBundleDir: absolutePath.optional()
      .describe("Air-gapped mode: local folder of packages and images uploaded to each host instead of downloading. Default: none (online)."),
  })
  .prefault({})
  .describe("The Kubernetes cluster.");

export type ClusterConfig = z.output<typeof cluster>;

/** kubeadm refuses a pod network more than 16 bits wider than a node's block (PodSubnetNodeMaskMaxDiff). */
const MAX_NODE_MASK_DIFF = 16;

/**
 * Every node gets a /24 of the pod network from the controller manager.
 * kubeadm refuses a pod network smaller than one such block, or more than
 * 16 bits wider; a node beyond the number of blocks gets none
 * (CIDRNotAvailable).
 */
export function podCidrProblems(podCidr: string, hostCount: number): string[] {
  const cidr = parseCidrV4(podCidr);
  if (!cidr) return [];
  const rule = `the controller manager gives every node a /${NODE_MASK_V4} of the pod network`;
  if (NODE_MASK_V4 - cidr.bits > MAX_NODE_MASK_DIFF) {
    const bits = NODE_MASK_V4 - MAX_NODE_MASK_DIFF;
    return [
      `cluster.podCidr: "${podCidr}" is too large: kubeadm allows at most ${MAX_NODE_MASK_DIFF} bits between its prefix and the /${NODE_MASK_V4} each node gets: ` +
        `use a /${bits} or smaller, e.g. "${formatIpV4(cidr.start)}/${bits}"`,
    ];
  }
  const blocks = cidr.bits > NODE_MASK_V4 ? 0 : 2 ** (NODE_MASK_V4 - cidr.bits);
  if (hostCount === 0 || blocks >= hostCount) return [];
  const bits = NODE_MASK_V4 - Math.ceil(Math.log2(hostCount));
  const size = 2 ** (32 - bits);
  const example = `${formatIpV4(Math.floor(cidr.start / size) * size)}/${bits}`;
  const has = blocks === 0 ? `is smaller than one /${NODE_MASK_V4}` : `holds ${blocks} block${blocks === 1 ? "" : "s"} of /${NODE_MASK_V4}`;
  const needs = hostCount === 1 ? "the host needs one" : `each of the ${hostCount} hosts needs its own`;
  return [`cluster.podCidr: "${podCidr}" ${has}, but ${needs} (${rule}): use a /${bits} or larger, e.g. "${example}"`];
}
