// Preflight: facts of every host + the spec -> a report per host. Hard
// failures stop the run before any host is changed; warnings are printed
// and the run goes on. Pure: the clock readings come in with the facts.
import type { StackSpec } from "../config/schema";
import { CLUSTER_MARKER, type HostFacts } from "./facts";
import { inventory, type InventoryNode } from "./inventory";
import { planRemovals, quorumProblem, remainingControlPlaneWarning } from "./kubeadm/removal";
import { versionChangeProblem } from "./kubeadm/versionChange";
import { minorNumber } from "./kubeadm/versions";

export const SUPPORTED_OS: Record<string, string[]> = {
  debian: ["12", "13"],
  ubuntu: ["22.04", "24.04"],
};

const GiB = 1024 ** 3;

/**
 * Minimum CPUs and memory per role. The control plane's are kubeadm's own
 * minimums. A worker needs 2 GiB too: with the default reservations and
 * kubelet.minAllocatable.memory (1Gi left for pods), a 1 GiB node has about
 * 670Mi left and its kubelet plan is refused, so preflight says so first.
 */
export const MINIMUMS = {
  "control-plane": { cpus: 2, memoryBytes: 2 * GiB },
  worker: { cpus: 1, memoryBytes: 2 * GiB },
} as const;

/**
 * MemTotal is what the kernel can use: a machine with 2 GiB installed reports
 * a little less (firmware and kernel reservations), so memory is compared
 * with this much slack rather than refusing every 2 GiB machine.
 */
export const MEMORY_SLACK = 0.1;

/** etcd's default backend quota: less free space than this fills the disk before etcd's own alarm. */
export const ETCD_MIN_FREE_BYTES = 2 * GiB;

export const DEFAULT_MAX_CLOCK_SKEW_MS = 2000;

/** Processes of an installed cluster that legitimately hold the Kubernetes ports. */
export const CLUSTER_PROCESSES: Record<number, string[]> = {
  2379: ["etcd"],
  2380: ["etcd"],
  10250: ["kubelet"],
};
const API_SERVER_PROCESSES = ["kube-apiserver"];

export interface Observation {
  facts: HostFacts;
  /** Local clock (epoch ms) when the facts script was sent and when its output arrived. */
  sentMs: number;
  receivedMs: number;
}

/** What gathering produced for one host: facts, or why there are none. */
export type Observed = Observation | { error: string };

export interface HostReport {
  host: string;
  errors: string[];
  warnings: string[];
}

export interface PreflightOptions {
  /** Largest allowed clock difference between hosts, ms. Default: 2000. */
  maxClockSkewMs?: number;
}

/** The API server port on a control plane. */
export function apiServerPort(spec: StackSpec): number {
  const ep = spec.cluster.endpoint;
  return ep.mode === "dns" ? 6443 : ep.port;
}

/** Ports that must be free (or held by this cluster) on a node. */
export function requiredPorts(spec: StackSpec, node: Pick<InventoryNode, "isControlPlane">): number[] {
  return node.isControlPlane ? [apiServerPort(spec), 2379, 2380, 10250] : [10250];
}

export function preflight(spec: StackSpec, observed: Record<string, Observed>, opts: PreflightOptions = {}): HostReport[] {
  const maxSkew = opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  const nodes = inventory(spec);
  const reports = new Map(nodes.map((n) => [n.name, { host: n.name, errors: [] as string[], warnings: [] as string[] }]));
  const seen: { node: InventoryNode; o: Observation }[] = [];

  for (const node of nodes) {
    const r = reports.get(node.name)!;
    const o = observed[node.name];
    if (!o) {
      r.errors.push("no facts were gathered for this host");
      continue;
    }
    if ("error" in o) {
      r.errors.push(`gathering facts failed: ${o.error}`);
      continue;
    }
    seen.push({ node, o });
    checkHost(spec, node, o.facts, r);
  }
  checkDuplicates(seen, reports, "hostname", (f) => f.hostname, "set a unique hostname (hostnamectl set-hostname <name>)");
  checkDuplicates(
    seen,
    reports,
    "machine-id",
    (f) => f.machineId,
    "hosts cloned from one image share it: regenerate it (rm /etc/machine-id && systemd-machine-id-setup) and reboot",
  );
  checkClocks(seen, reports, maxSkew);
  checkUnlistedNodes(spec, seen, reports);
  return [...nodes.map((n) => reports.get(n.name)!), ...removalReports(spec, nodes)];
}

/**
 * A node the cluster has but the stack does not list was dropped from the
 * config: refused, because removing a node is an explicit act.
 */
function checkUnlistedNodes(spec: StackSpec, seen: { node: InventoryNode; o: Observation }[], reports: Map<string, HostReport>): void {
  const listed = new Set(spec.hosts.map((h) => h.name));
  const refused = new Set<string>();
  for (const { node, o } of seen) {
    for (const name of o.facts.clusterNodes ?? []) {
      if (listed.has(name) || refused.has(name)) continue;
      refused.add(name);
      reports.get(node.name)!.errors.push(
        `the cluster has a node "${name}" that is not in hosts: ironroot takes a node out only when asked to. ` +
          `Put its entry back with \`remove: true\` (drain, reset) or \`remove: dead\` (the machine is gone), run pulumi up, then delete the entry; ` +
          `or put it back as it was to keep it`,
      );
    }
  }
}

/** One report per host marked `remove`: the planned steps as a warning, and a refusal when etcd would lose quorum. */
function removalReports(spec: StackSpec, nodes: InventoryNode[]): HostReport[] {
  const removals = planRemovals(spec.hosts, spec.kubelet.rollout.drainTimeoutSeconds);
  if (spec.layers === "hosts" || removals.length === 0) return [];
  const activeCps = nodes.filter((n) => n.isControlPlane).map((n) => n.name);
  const quorum = quorumProblem(activeCps, removals);
  const remaining = remainingControlPlaneWarning(activeCps, removals);
  return removals.map((r) => ({
    host: r.name,
    errors: quorum && r.isControlPlane ? [quorum] : [],
    warnings: [
      `hosts[${r.index}] is marked remove${r.dead ? ": dead" : ""}: this up takes it out of the cluster: ${r.steps.map((s, i) => `(${i + 1}) ${s}`).join("; ")}`,
      ...(remaining && r.isControlPlane ? [remaining] : []),
    ],
  }));
}

function checkHost(spec: StackSpec, node: InventoryNode, f: HostFacts, r: HostReport): void {
  const supported = SUPPORTED_OS[f.os.id];
  if (!supported || !supported.includes(f.os.versionId)) {
    r.errors.push(
      `unsupported OS ${f.os.prettyName || `${f.os.id || "unknown"} ${f.os.versionId}`}: ` +
        `use ${Object.entries(SUPPORTED_OS).map(([id, v]) => `${id} ${v.join("/")}`).join(" or ")}`,
    );
  }

  const role = node.isControlPlane ? "control-plane" : "worker";
  const min = MINIMUMS[role];
  if (f.cpus < min.cpus) r.errors.push(`${f.cpus} CPU(s): a ${role} needs at least ${min.cpus}`);
  if (f.memoryBytes < min.memoryBytes * (1 - MEMORY_SLACK)) {
    r.errors.push(`${gib(f.memoryBytes)} of memory: a ${role} needs at least ${gib(min.memoryBytes)}`);
  }

  // A stack lowered to `layers: hosts` would drop its Kubernetes resources:
  // their deletes touch no host, so the cluster would run on, unmanaged.
  // Refuse while a host runs a cluster.
  if (spec.layers === "hosts" && f.installedCluster) {
    r.errors.push(
      `this host already runs Kubernetes (cluster "${f.installedCluster}", ${CLUSTER_MARKER}), and layers is "hosts": ` +
        `pulumi up would drop the Kubernetes layer from the stack while the cluster keeps running, unmanaged: set layers back to "kubernetes" or "gitops"; ` +
        `ironroot never takes a cluster down: to do that on purpose, run kubeadm reset -f on its nodes first`,
    );
  }

  // A changed pin is judged here, before any host is touched; the install
  // step's own guard would only stop on this host, half-way through an up.
  // Only on a member: binaries left behind by a reset are simply replaced.
  const versionProblem = spec.layers !== "hosts" && f.kubernetesMember && f.kubeadmVersion
    ? versionChangeProblem(f.kubeadmVersion, spec.cluster.kubernetesVersion)
    : undefined;
  if (versionProblem) r.errors.push(versionProblem);

  for (const port of requiredPorts(spec, node)) {
    const holder = f.portsInUse.find((p) => p.port === port);
    if (!holder) continue;
    if (ownedByThisCluster(spec, f, port, holder.process)) continue;
    r.errors.push(
      `port ${port} is already in use${holder.process ? ` by ${holder.process}` : ""}: ` +
        `a ${role} needs it for ${portPurpose(port)}; stop that service or use another host`,
    );
  }

  if (f.virt !== "kvm") {
    r.warnings.push(`virtualization is "${f.virt}", not kvm: ironroot is built and tuned for KVM guests`);
  }
  const etcdDisk = f.etcd.disk ? f.disks.find((d) => d.name === f.etcd.disk) : undefined;
  if (node.isControlPlane && etcdDisk && !etcdDisk.nvme) {
    r.warnings.push(`etcd data (${node.etcdDataDir}) is on ${etcdDisk.name}, not an NVMe disk: etcd may be slow; the disk benchmark decides`);
  } else if (!f.disks.some((d) => d.nvme) && !(node.isControlPlane && etcdDisk)) {
    r.warnings.push(`no NVMe disk found (${f.disks.map((d) => d.name).join(", ") || "no disks visible"})`);
  }
  if (node.isControlPlane && f.etcd.freeBytes !== undefined && f.etcd.freeBytes < ETCD_MIN_FREE_BYTES) {
    r.warnings.push(`only ${gib(f.etcd.freeBytes)} free on ${f.etcd.path}, where etcd data will live: etcd's default quota is ${gib(ETCD_MIN_FREE_BYTES)}`);
  }
  if (f.swap.totalBytes > 0 || f.swap.active.length > 0 || f.swap.fstab.length > 0) {
    const where = [
      f.swap.active.length ? `active: ${f.swap.active.join(", ")}` : "",
      f.swap.fstab.length ? `in /etc/fstab: ${f.swap.fstab.map((l) => l.split(" ")[0]).join(", ")}` : "",
    ].filter(Boolean);
    r.warnings.push(`swap is on (${where.join("; ") || gib(f.swap.totalBytes)}): host preparation turns it off`);
  }
  const activeSync = f.timeSync.services.filter((s) => s.active).map((s) => s.name);
  if (f.timeSync.synchronized !== true) {
    r.warnings.push(
      `the clock is not NTP-synchronized (${f.timeSync.synchronized === false ? "timedatectl: NTPSynchronized=no" : "timedatectl gave no answer"}; ` +
        `time service: ${activeSync.join(", ") || "none active"}): host preparation turns time sync on`,
    );
  }
  checkCgroups(spec, f, r);
}

/** The first minor whose kubelet refuses cgroup v1 unless failCgroupV1 is false. */
export const FAIL_CGROUP_V1_MINOR = 35;

/**
 * cgroup v1: from 1.35 the kubelet will not start on it unless the stack
 * says kubelet.allowCgroupV1, so that is refused here by name rather than by
 * a kubelet crash-looping after kubeadm has begun. A host that only gets the
 * hosts layer runs no kubelet.
 */
function checkCgroups(spec: StackSpec, f: HostFacts, r: HostReport): void {
  if (f.cgroupVersion === 2) return;
  const seen = f.cgroupVersion === 1 ? "boots with cgroup v1" : "has a cgroup version ironroot could not read (/sys/fs/cgroup is neither cgroup2fs nor tmpfs)";
  const kubeletRefuses = spec.layers !== "hosts" && minorNumber(spec.cluster.kubernetesVersion) >= FAIL_CGROUP_V1_MINOR && f.cgroupVersion === 1;
  if (kubeletRefuses && !spec.kubelet.allowCgroupV1) {
    r.errors.push(
      `${seen}, and the kubelet of Kubernetes ${spec.cluster.kubernetesVersion} refuses cgroup v1 (failCgroupV1, since 1.${FAIL_CGROUP_V1_MINOR}): ` +
        `boot the host with cgroup v2 (kernel argument systemd.unified_cgroup_hierarchy=1), ` +
        `or set ironroot:kubelet.allowCgroupV1: true to run on cgroup v1 anyway (deprecated upstream)`,
    );
    return;
  }
  const allowed = kubeletRefuses ? " and kubelet.allowCgroupV1 lets the kubelet run on it (failCgroupV1: false)" : "";
  r.warnings.push(`${seen}${allowed}: Kubernetes is removing cgroup v1 support; use a distribution that boots with cgroup v2`);
}

/**
 * A port held by the cluster this stack already installed is expected (a
 * second `pulumi up`). The install steps record the cluster name in
 * /etc/ironroot/cluster; the process must also be the one that owns the port.
 */
function ownedByThisCluster(spec: StackSpec, f: HostFacts, port: number, process?: string): boolean {
  if (f.installedCluster !== spec.cluster.name || !process) return false;
  const owners = port === apiServerPort(spec) ? API_SERVER_PROCESSES : CLUSTER_PROCESSES[port] ?? [];
  return owners.includes(process);
}

function portPurpose(port: number): string {
  if (port === 2379 || port === 2380) return "etcd";
  if (port === 10250) return "the kubelet";
  return "the API server";
}

function checkDuplicates(
  seen: { node: InventoryNode; o: Observation }[],
  reports: Map<string, HostReport>,
  what: string,
  value: (f: HostFacts) => string,
  fix: string,
): void {
  const byValue = new Map<string, string[]>();
  for (const { node, o } of seen) {
    const v = value(o.facts);
    if (!v) continue;
    byValue.set(v, [...(byValue.get(v) ?? []), node.name]);
  }
  for (const [v, hosts] of byValue) {
    if (hosts.length < 2) continue;
    for (const h of hosts) {
      const others = hosts.filter((x) => x !== h).join(", ");
      reports.get(h)!.errors.push(`${what} ${JSON.stringify(v)} is also the ${what} of ${others}: Kubernetes needs it unique per node; ${fix}`);
    }
  }
}

/**
 * Each host's offset from the machine running ironroot is measured with the
 * round trip as its error bar (the clock was read somewhere between sending
 * and receiving). Hosts are compared with the median offset, so one bad
 * clock is named rather than every host, and a runner whose own clock is off
 * does not fail hosts that agree with each other.
 */
function checkClocks(seen: { node: InventoryNode; o: Observation }[], reports: Map<string, HostReport>, maxSkewMs: number): void {
  if (seen.length === 0) return;
  const measured = seen.map(({ node, o }) => ({
    host: node.name,
    offset: o.facts.clockMs - (o.sentMs + o.receivedMs) / 2,
    error: Math.max(0, (o.receivedMs - o.sentMs) / 2),
  }));
  const sorted = measured.map((m) => m.offset).sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  for (const m of measured) {
    const skew = m.offset - median;
    if (seen.length > 1 && Math.abs(skew) - m.error > maxSkewMs) {
      reports.get(m.host)!.errors.push(
        `clock is ${seconds(Math.abs(skew))} ${skew > 0 ? "ahead of" : "behind"} the other hosts (${uncertainty(m.error)}); ` +
          `at most ${seconds(maxSkewMs)} is allowed (etcd and certificates need agreeing clocks): enable time sync (NTP) on this host`,
      );
    }
    if (Math.abs(m.offset) - m.error > maxSkewMs && Math.abs(skew) - m.error <= maxSkewMs) {
      reports.get(m.host)!.warnings.push(
        `clock is ${seconds(Math.abs(m.offset))} ${m.offset > 0 ? "ahead of" : "behind"} the machine running ironroot (${uncertainty(m.error)}): ` +
          `check the time on this machine; certificates it issues may not be valid yet on the hosts`,
      );
    }
  }
}

/** How far off a clock reading may be: half the round trip it was read over. */
function uncertainty(errorMs: number): string {
  return `±${Math.round(errorMs)} ms, read over a ${Math.round(2 * errorMs)} ms round trip`;
}

/** One readable block per host. */
export function formatReport(r: HostReport): string {
  const status = r.errors.length ? "FAIL" : r.warnings.length ? "ok, with warnings" : "ok";
  return [
    `${r.host}: ${status}`,
    ...r.errors.map((e) => `  error:   ${e}`),
    ...r.warnings.map((w) => `  warning: ${w}`),
    "",
  ].join("\n");
}

export class PreflightError extends Error {
  constructor(readonly failing: HostReport[]) {
    super(
      `preflight: ${failing.length} host${failing.length === 1 ? "" : "s"} failed, nothing was changed on any host:\n\n` +
        failing.map(formatReport).join("\n"),
    );
    this.name = "PreflightError";
  }
}

/** Throws one PreflightError listing every host with a hard failure. */
export function assertPreflight(reports: HostReport[]): void {
  const failing = reports.filter((r) => r.errors.length > 0);
  if (failing.length > 0) throw new PreflightError(failing);
}

function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
