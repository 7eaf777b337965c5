// Whether a running cluster may start an upgrade, judged from what its API
// and etcd answer (kubectl and etcdctl JSON). Pure, so every refusal is
// tested without a cluster; the host operation only fetches the answers.
import { minorNumber } from "./versions";

interface NodeItem {
  metadata?: { name?: string };
  status?: { conditions?: { type?: string; status?: string }[]; nodeInfo?: { kubeletVersion?: string } };
}

interface EtcdHealth {
  endpoint?: string;
  health?: boolean;
  error?: string;
}

/** One Node object's Ready status and kubelet version (without the "v"). */
export function nodeStatus(n: NodeItem): { name: string; ready: string; kubelet: string } {
  return {
    name: n.metadata?.name ?? "?",
    ready: n.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "Unknown",
    kubelet: (n.status?.nodeInfo?.kubeletVersion ?? "").replace(/^v/, ""),
  };
}

/** Every node's, from `kubectl get nodes -o json`. */
export function nodeStatuses(nodesJson: string): ReturnType<typeof nodeStatus>[] {
  return ((JSON.parse(nodesJson) as { items?: NodeItem[] }).items ?? []).map(nodeStatus);
}

/**
 * Everything that stops an upgrade to `version` from starting: a node not
 * Ready, a kubelet newer than the target or more than one minor older
 * (it would be skewed by two once the control plane moves), an etcd member
 * unhealthy, or fewer members than control planes.
 */
export function upgradeReadiness(o: { nodesJson: string; etcdHealthJson: string; etcdMembers: number; version: string }): string[] {
  const problems: string[] = [];
  const target = minorNumber(o.version);
  for (const n of nodeStatuses(o.nodesJson)) {
    if (n.ready !== "True") problems.push(`node ${n.name} is not Ready (Ready=${n.ready}): fix it first, or take it out of the cluster first (mark it remove and run up with the old version pinned)`);
    if (!/^\d+\.\d+\.\d+/.test(n.kubelet)) continue;
    const minor = minorNumber(n.kubelet.replace(/[-+].*$/, ""));
    if (minor > target) problems.push(`node ${n.name} runs kubelet ${n.kubelet}, newer than ${o.version}: kubeadm cannot downgrade`);
    else if (minor < target - 1) problems.push(`node ${n.name} runs kubelet ${n.kubelet}, more than one minor behind ${o.version}: upgrade it one minor at a time first`);
  }
  let health: EtcdHealth[];
  try {
    health = JSON.parse(o.etcdHealthJson) as EtcdHealth[];
  } catch {
    problems.push(`etcd did not say whether it is healthy: ${o.etcdHealthJson.trim().split("\n").slice(-2).join(" ")}`);
    return problems;
  }
  for (const m of health) if (!m.health) problems.push(`etcd member ${m.endpoint ?? "?"} is unhealthy${m.error ? `: ${m.error}` : ""}`);
  if (health.length < o.etcdMembers) {
    problems.push(`etcd has ${health.length} member(s) answering where the cluster has ${o.etcdMembers} control planes: bring the missing member back first, or take its host out of the cluster first (mark it remove and run up with the old version pinned)`);
  }
  return problems;
}
