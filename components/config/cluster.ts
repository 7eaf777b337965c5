import { z } from "zod";
import { absolutePath, address, cidrV4, dnsLabel, port } from "./fields";

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
      .regex(/^1\.\d{2}\.\d{1,2}$/, {
        error: (iss) => `${JSON.stringify(iss.input)} is not a pinned Kubernetes version: use "1.<minor>.<patch>", e.g. "1.34.2"`,
      })
      .default("1.34.2")
      .describe("Exact upstream Kubernetes version (kubeadm, kubelet, kubectl). Default: `1.34.2`."),
    podCidr: cidrV4.default("10.244.0.0/16").describe("Pod network. Default: `10.244.0.0/16`."),
    serviceCidr: cidrV4.default("10.96.0.0/12").describe("Service network. Default: `10.96.0.0/12`."),
    endpoint,
    calicoVersion: z.string().regex(/^v\d+\.\d+\.\d+$/, { error: (iss) => `${JSON.stringify(iss.input)} is not a Calico release tag: use e.g. "v3.30.3"` })
      .default("v3.30.3")
      .describe("Pinned Calico release (the CNI, VXLAN mode: works without a shared layer 2, enforces NetworkPolicy). Default: `v3.30.3`."),
    offlineBundleDir: absolutePath.optional()
      .describe("Air-gapped mode: local folder of packages and images uploaded to each host instead of downloading. Default: none (online)."),
  })
  .prefault({})
  .describe("The Kubernetes cluster.");

export type ClusterConfig = z.output<typeof cluster>;
