import { z } from "zod";
import { absolutePath, address, dnsLabel, hostKey, port } from "./fields";
import { nodeLabels, taintKey, taintValue } from "./kubernetesNames";

export const ROLES = ["control-plane", "worker"] as const;
export type Role = (typeof ROLES)[number];

const taint = z.strictObject({
  key: taintKey.describe("Taint key, e.g. `dedicated`: `[prefix/]name`, as a label key."),
  value: taintValue.optional().describe("Taint value, as a label value. Default: none."),
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
    "Pinned SSH host public key, `<type> <base64>`. A host presenting any other key is refused. Unique in the stack. Required.",
  ),
  roles: z
    .array(z.enum(ROLES))
    .min(1, { error: "needs at least one role: control-plane or worker" })
    .default(["worker"])
    .describe("`control-plane` and/or `worker`. Default: `[worker]`."),
  group: dnsLabel("node group name")
    .default("default")
    .describe("Node group for kubelet reservation overrides (`kubelet.groups`). Default: `default`."),
  labels: nodeLabels.default({}).describe(
    "Kubernetes node labels. Keys are `[prefix/]name` (name at most 63 characters); keys under kubernetes.io/ and k8s.io/ " +
      "(and their subdomains, e.g. node-role.kubernetes.io/) are refused, except the kubelet's well-known ones " +
      "(topology.kubernetes.io/zone and /region, node.kubernetes.io/*): the role comes from `roles`. Default: none.",
  ),
  taints: z.array(taint).default([]).describe("Kubernetes node taints. Default: none."),
  etcdDataDir: absolutePath
    .default("/var/lib/etcd")
    .describe("Where etcd keeps its data on a control plane; the disk benchmark measures this disk. Default: `/var/lib/etcd`."),
  remove: z
    .union([z.literal(true), z.literal("dead")])
    .optional()
    .describe(
      "Take this node out of the cluster on the next `up`, and nothing else is done to it. `true`: drain it, remove its etcd member " +
        "(control planes), delete its Node and `kubeadm reset` the host. `dead`: the machine is gone for good: no SSH to it at all; its " +
        "etcd member and Node are removed from the surviving control planes. Delete the entry once the removal ran. Default: none (a member).",
    ),
});

export type HostConfig = z.output<typeof host>;

/** The hosts that are (or become) nodes: every host not marked `remove`. */
export function activeHosts<H extends { remove?: true | "dead" }>(hosts: H[]): H[] {
  return hosts.filter((h) => h.remove === undefined);
}

/**
 * Two machines share a host key only when one was cloned from the other; in
 * a config it is nearly always a copy-paste slip that pins the wrong host.
 */
export function duplicateHostKeyProblems(hosts: { h: HostConfig; i: number }[]): string[] {
  const out: string[] = [];
  const first = new Map<string, { h: HostConfig; i: number }>();
  for (const x of hosts) {
    const blob = x.h.hostKey.trim().split(/\s+/)[1] ?? "";
    const seen = first.get(blob);
    if (!seen) {
      first.set(blob, x);
      continue;
    }
    out.push(
      `hosts[${x.i}].hostKey: ${x.h.name} has the same host key as hosts[${seen.i}] (${seen.h.name}): ` +
        `two machines share a host key only when one is a clone of the other; pin each host's own key ` +
        `(\`ssh-keyscan <address>\`, checked out of band), or give a cloned machine new host keys`,
    );
  }
  return out;
}
