// Kubelet reservations sized to a node. Pure: config + node size in, numbers
// and the reasoning behind them out.
//
// The default (`sized`) follows the tiers GKE publishes for its nodes:
//   memory: 25% of the first 4 GiB, 20% of the next 4, 10% of the next 8,
//           6% of the next 112, 2% above 128 GiB
//   CPU:    6% of the first core, 1% of the next, 0.5% of the next 2,
//           0.25% above 4 cores
// Rates are kept in basis points and amounts in integers (millicores, bytes),
// so the result is exact and the same on every machine.
import type { KubeletConfig } from "../../config/kubelet";
import type { KubeletFields } from "./fields";
import { cpuMillis, formatCpu, formatMemory, GI, mebibytes, memoryBytes, MI } from "./quantity";

/** What sizing needs to know about a host (a subset of the gathered host facts). */
export interface NodeSize {
  /** Online CPUs (`nproc`). */
  cpus: number;
  /** Physical memory in bytes (`MemTotal`). */
  memoryBytes: number;
}

interface Tier {
  /** Upper bound of the tier (millicores or bytes); Infinity for the last. */
  upTo: number;
  /** Rate in basis points (1/100 of a percent). */
  bp: number;
}

export const CPU_TIERS: readonly Tier[] = [
  { upTo: 1000, bp: 600 },
  { upTo: 2000, bp: 100 },
  { upTo: 4000, bp: 50 },
  { upTo: Infinity, bp: 25 },
];

export const MEMORY_TIERS: readonly Tier[] = [
  { upTo: 4 * GI, bp: 2500 },
  { upTo: 8 * GI, bp: 2000 },
  { upTo: 16 * GI, bp: 1000 },
  { upTo: 128 * GI, bp: 600 },
  { upTo: Infinity, bp: 200 },
];

export interface TierLine {
  /** The slice of capacity this tier covers, e.g. "4Gi-8Gi" or "1-2 cores". */
  range: string;
  rate: string;
  /** How much of the node's capacity falls in this tier. */
  amount: string;
  contribution: string;
}

export interface Explanation {
  node: string;
  group: string;
  policy: "sized" | "static";
  inputs: { cpus: number; memory: string; maxPods: number } | { missing: string; maxPods: number };
  tiers?: { cpu: TierLine[]; memory: TierLine[] };
  total?: { cpu: string; memory: string };
  split: string;
  result?: KubeletFields;
  capacity?: { cpu: string; memory: string };
  reserved?: { cpu: string; memory: string };
  allocatable?: { cpu: string; memory: string };
  minAllocatable: { cpu: string; memory: string };
  check: string;
}

export interface NodeSizing {
  node: string;
  /** The kubelet settings; absent when they cannot be computed (sized policy without host facts). */
  fields?: KubeletFields;
  /** Present when the node must be refused: the reservations leave too little for pods. */
  problem?: string;
  /** Exact allocatable in millicores and bytes, when capacity is known (for checks and tests). */
  allocatable?: { cpuMillis: number; memoryBytes: number };
  explanation: Explanation;
}

export const SPLIT =
  "total split evenly, kubeReserved takes the odd unit: allocatable depends only on the sum, " +
  "because only the pods cgroup is enforced (enforceNodeAllocatable: [pods])";

/** The policy a node gets: its group's overrides on top of the stack-wide settings. */
export function effectivePolicy(k: KubeletConfig, group: string) {
  const o = k.groups[group] ?? {};
  return {
    policy: o.policy ?? k.policy,
    static: o.static ?? k.static,
    maxPods: o.maxPods ?? k.maxPods,
  };
}

/** Sum of each tier's rate times the part of `amount` inside it, in units x 10000. */
function tiered(amount: number, tiers: readonly Tier[]): { scaled: number; lines: { from: number; to: number; bp: number; inTier: number; scaled: number }[] } {
  let from = 0;
  let scaled = 0;
  const lines = [];
  for (const t of tiers) {
    if (amount <= from) break;
    const to = Math.min(amount, t.upTo);
    const inTier = to - from;
    lines.push({ from, to: t.upTo, bp: t.bp, inTier, scaled: inTier * t.bp });
    scaled += inTier * t.bp;
    from = t.upTo;
  }
  return { scaled, lines };
}

const percent = (bp: number) => `${bp / 100}%`;

/** GKE-tier CPU reservation in millicores, rounded up. */
export function sizedCpuMillis(cpus: number): number {
  return Math.ceil(tiered(Math.round(cpus * 1000), CPU_TIERS).scaled / 10000);
}

/** GKE-tier memory reservation in whole Mi (bytes), rounded up. */
export function sizedMemoryBytes(bytes: number): number {
  return Math.ceil(tiered(bytes, MEMORY_TIERS).scaled / 10000 / MI) * MI;
}

function cpuTierLines(cpus: number): TierLine[] {
  const fmtCores = (m: number) => (m === Infinity ? "" : String(m / 1000));
  return tiered(Math.round(cpus * 1000), CPU_TIERS).lines.map((l) => ({
    range: l.to === Infinity ? `above ${fmtCores(l.from)} cores` : `${fmtCores(l.from)}-${fmtCores(l.to)} cores`,
    rate: percent(l.bp),
    amount: formatCpu(l.inTier),
    contribution: `${(l.scaled / 10000).toFixed(2)}m`,
  }));
}

function memoryTierLines(bytes: number): TierLine[] {
  const fmtGi = (b: number) => `${b / GI}Gi`;
  return tiered(bytes, MEMORY_TIERS).lines.map((l) => ({
    range: l.to === Infinity ? `above ${fmtGi(l.from)}` : `${fmtGi(l.from)}-${fmtGi(l.to)}`,
    rate: percent(l.bp),
    amount: mebibytes(l.inTier),
    contribution: mebibytes(l.scaled / 10000),
  }));
}

function evictionFields(k: KubeletConfig): KubeletFields["evictionHard"] {
  const e = k.evictionHard;
  const canon = (t: string) => (t.endsWith("%") ? t : formatMemory(memoryBytes(t)));
  return {
    "memory.available": canon(e.memoryAvailable),
    "nodefs.available": e.nodefsAvailable,
    "nodefs.inodesFree": e.nodefsInodesFree,
    "imagefs.available": e.imagefsAvailable,
  };
}

/** Bytes the memory.available threshold holds back on a node of this size. */
function evictionBytes(threshold: string, capacityBytes: number): number {
  if (threshold.endsWith("%")) return Math.ceil((Number(threshold.slice(0, -1)) / 100) * capacityBytes);
  return memoryBytes(threshold);
}

export interface SizeNodeInput {
  node: string;
  group: string;
  kubelet: KubeletConfig;
  /** Host facts; without them a `sized` node cannot be computed and no node can be checked. */
  size?: NodeSize;
}

export function sizeNode({ node, group, kubelet, size }: SizeNodeInput): NodeSizing {
  const p = effectivePolicy(kubelet, group);
  const minCpu = cpuMillis(kubelet.minAllocatable.cpu);
  const minMem = memoryBytes(kubelet.minAllocatable.memory);
  const explanation: Explanation = {
    node,
    group,
    policy: p.policy,
    inputs: size
      ? { cpus: size.cpus, memory: mebibytes(size.memoryBytes), maxPods: p.maxPods }
      : { missing: "host facts (CPUs, memory): not gathered", maxPods: p.maxPods },
    split: p.policy === "sized" ? SPLIT : "static: kubeReserved and systemReserved as configured",
    minAllocatable: { cpu: formatCpu(minCpu), memory: formatMemory(minMem) },
    check: "",
  };

  let kube: { cpu: number; mem: number };
  let sys: { cpu: number; mem: number };
  if (p.policy === "static") {
    // Config validation guarantees static values exist for a static policy.
    const s = p.static!;
    kube = { cpu: cpuMillis(s.kubeReserved.cpu), mem: roundMi(memoryBytes(s.kubeReserved.memory)) };
    sys = { cpu: cpuMillis(s.systemReserved.cpu), mem: roundMi(memoryBytes(s.systemReserved.memory)) };
  } else {
    if (!size) {
      explanation.check = "not computed, no kubelet file rendered: the sized policy needs this host's CPUs and memory; pass host facts (render --facts <dir>) to compute it";
      return { node, explanation };
    }
    const cpu = sizedCpuMillis(size.cpus);
    const mem = sizedMemoryBytes(size.memoryBytes);
    explanation.tiers = { cpu: cpuTierLines(size.cpus), memory: memoryTierLines(size.memoryBytes) };
    explanation.total = { cpu: formatCpu(cpu), memory: formatMemory(mem) };
    // The odd millicore / Mi goes to kubeReserved so the halves always add up.
    const kubeCpu = Math.ceil(cpu / 2);
    const kubeMemMi = Math.ceil(mem / MI / 2);
    kube = { cpu: kubeCpu, mem: kubeMemMi * MI };
    sys = { cpu: cpu - kubeCpu, mem: mem - kubeMemMi * MI };
  }

  const fields: KubeletFields = {
    maxPods: p.maxPods,
    kubeReserved: { cpu: formatCpu(kube.cpu), memory: formatMemory(kube.mem) },
    systemReserved: { cpu: formatCpu(sys.cpu), memory: formatMemory(sys.mem), pid: String(kubelet.systemReservedPids) },
    evictionHard: evictionFields(kubelet),
  };
  explanation.result = fields;

  if (!size) {
    explanation.check = "not checked: host facts (CPUs, memory) not gathered, so allocatable is unknown";
    return { node, fields, explanation };
  }

  const capCpu = Math.round(size.cpus * 1000);
  const evict = evictionBytes(fields.evictionHard["memory.available"], size.memoryBytes);
  const reservedCpu = kube.cpu + sys.cpu;
  const reservedMem = kube.mem + sys.mem + evict;
  const allocatable = { cpuMillis: capCpu - reservedCpu, memoryBytes: size.memoryBytes - reservedMem };
  explanation.capacity = { cpu: formatCpu(capCpu), memory: mebibytes(size.memoryBytes) };
  explanation.reserved = { cpu: formatCpu(reservedCpu), memory: mebibytes(reservedMem) };
  explanation.allocatable = { cpu: formatCpu(allocatable.cpuMillis), memory: mebibytes(allocatable.memoryBytes) };

  const short: string[] = [];
  if (allocatable.cpuMillis < minCpu) {
    short.push(
      `CPU: kubeReserved ${formatCpu(kube.cpu)} + systemReserved ${formatCpu(sys.cpu)} of capacity ${formatCpu(capCpu)} ` +
        `leaves ${formatCpu(allocatable.cpuMillis)}, below kubelet.minAllocatable.cpu ${formatCpu(minCpu)}`,
    );
  }
  if (allocatable.memoryBytes < minMem) {
    short.push(
      `memory: kubeReserved ${formatMemory(kube.mem)} + systemReserved ${formatMemory(sys.mem)} + evictionHard memory.available ${mebibytes(evict)} ` +
        `of capacity ${mebibytes(size.memoryBytes)} leaves ${mebibytes(allocatable.memoryBytes)}, below kubelet.minAllocatable.memory ${formatMemory(minMem)}`,
    );
  }
  if (short.length > 0) {
    const fix = p.policy === "static"
      ? `lower kubelet.${kubelet.groups[group]?.static ? `groups.${group}.` : ""}static, use a bigger host, or lower kubelet.minAllocatable`
      : `use a bigger host or lower kubelet.minAllocatable`;
    const problem = `${node}: kubelet reservations leave too little for pods: ${short.join("; ")}: ${fix}`;
    explanation.check = `refused: ${short.join("; ")}`;
    return { node, fields, problem, allocatable, explanation };
  }
  explanation.check = "ok: allocatable is at least kubelet.minAllocatable";
  return { node, fields, allocatable, explanation };
}

function roundMi(bytes: number): number {
  return Math.ceil(bytes / MI) * MI;
}
