import { z } from "zod";
import { absolutePath, address, dnsLabel, hostKey, port } from "./fields";

export const ROLES = ["control-plane", "worker"] as const;
export type Role = (typeof ROLES)[number];

const taint = z.strictObject({
  key: z.string().min(1).describe("Taint key, e.g. `dedicated`."),
  value: z.string().optional().describe("Taint value. Default: none."),
  effect: z
    .enum(["NoSchedule", "PreferNoSchedule", "NoExecute"])
    .describe("What the taint does to pods that do not tolerate it."),
});

export const host = z.strictObject({
  name: dnsLabel("host name")
    .describe("Node name in Kubernetes and in every message about this host. Unique in the stack."),
  address: address.describe("IP address or DNS name ironroot connects to over SSH. Unique in the stack."),
  port: port.optional().describe("SSH port of this host. Default: `ssh.port`."),
  user: z.string().min(1).optional().describe("SSH user for this host. Default: `ssh.user`."),
  hostKey: hostKey.describe(
    "Pinned SSH host public key, `<type> <base64>`. A host presenting any other key is refused. Required.",
  ),
  roles: z
    .array(z.enum(ROLES))
    .min(1, { error: "needs at least one role: control-plane or worker" })
    .default(["worker"])
    .describe("`control-plane` and/or `worker`. Default: `[worker]`."),
  group: dnsLabel("node group name")
    .default("default")
    .describe("Node group for kubelet reservation overrides (`kubelet.groups`). Default: `default`."),
  labels: z.record(z.string(), z.string()).default({}).describe("Kubernetes node labels. Default: none."),
  taints: z.array(taint).default([]).describe("Kubernetes node taints. Default: none."),
  etcdDataDir: absolutePath
    .default("/var/lib/etcd")
    .describe("Where etcd keeps its data on a control plane; the disk benchmark measures this disk. Default: `/var/lib/etcd`."),
});

export type HostConfig = z.output<typeof host>;
