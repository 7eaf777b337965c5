// From the script's output to a verdict: fio's runs read, summarized and
// judged. One cold run is what makes other installers raise false alarms, so
// the gate looks at the median p99 of N runs after a warm-up, and reports the
// spread so a noisy disk is visible as such. Pure, so the whole path from
// fio's JSON to the verdict is unit-tested on captured output.
import { splitBenchmarkOutput, type DiskBenchmarkPlan } from "./script";
import { parseEtcdRun, parseRandomRun, type EtcdRun, type RandomRun, type SyncLatency } from "./fio";

export interface DiskBenchmarkSummary {
  /** Median of each percentile across the measured runs, ms. */
  medianMs: SyncLatency;
  /** Lowest and highest p99 across the measured runs, ms. */
  p99SpreadMs: { min: number; max: number };
  /** Median write IOPS of the etcd profile across the measured runs. */
  writeIops: number;
  /** The measured runs, in order (the warm-up is not among them). */
  runs: EtcdRun[];
  random?: RandomRun;
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(runs: EtcdRun[], random?: RandomRun): DiskBenchmarkSummary {
  if (runs.length === 0) throw new Error("disk benchmark: no measured runs to summarize");
  const pick = (k: keyof SyncLatency) => median(runs.map((r) => r.fsyncMs[k]));
  const p99s = runs.map((r) => r.fsyncMs.p99);
  return {
    medianMs: { p50: pick("p50"), p90: pick("p90"), p99: pick("p99"), p999: pick("p999") },
    p99SpreadMs: { min: Math.min(...p99s), max: Math.max(...p99s) },
    writeIops: median(runs.map((r) => r.writeIops)),
    runs,
    ...(random ? { random } : {}),
  };
}

export type Verdict = "pass" | "warn" | "override" | "fail";

export interface GateResult {
  verdict: Verdict;
  /** One line for people, without the host (the caller prefixes it); empty on a plain pass. */
  message: string;
}

export type GateInput = Pick<DiskBenchmarkPlan, "node" | "configPath" | "isControlPlane" | "etcdDataDir" | "warnP99Ms" | "failP99Ms" | "allowSlowDisk" | "runs">;

/** Where the measured disk is, for messages: "/dev/nvme0n1p2 (filesystem of /var/lib/etcd)". */
export interface DiskWhere {
  device?: string;
}

const ms = (v: number) => `${Number(v.toFixed(3))} ms`;

/**
 * Control planes: over failP99Ms is refused unless the host is in
 * allowSlowDisk (then an override, recorded); over warnP99Ms warns. Workers
 * hold no etcd, so they only ever warn. A value equal to a threshold passes.
 */
export function gate(p: GateInput, s: Pick<DiskBenchmarkSummary, "medianMs" | "p99SpreadMs">, where: DiskWhere = {}): GateResult {
  const p99 = s.medianMs.p99;
  const disk = `${where.device ? `${where.device}, ` : ""}the filesystem of ${p.etcdDataDir}`;
  const measured =
    `fdatasync p99 is ${ms(p99)} (median of ${p.runs} run${p.runs === 1 ? "" : "s"} after a warm-up, ` +
    `spread ${ms(s.p99SpreadMs.min)} to ${ms(s.p99SpreadMs.max)}) on ${disk}`;

  if (p99 > p.failP99Ms && p.isControlPlane) {
    if (p.allowSlowDisk) {
      return {
        verdict: "override",
        message: `${measured}, above diskBenchmark.failP99Ms ${ms(p.failP99Ms)}; accepted because diskBenchmark.allowSlowDisk lists "${p.node}": expect etcd leader elections and slow API responses under load`,
      };
    }
    return {
      verdict: "fail",
      message:
        `disk too slow for etcd: ${measured}, above diskBenchmark.failP99Ms ${ms(p.failP99Ms)} ` +
        `(etcd needs WAL fsync p99 under 10 ms; this node is a control plane, so Kubernetes is not installed). ` +
        `Fix one of: put etcd on a faster disk (mount it and set ${p.configPath}.etcdDataDir to a directory on it); ` +
        `use another host for this control plane; or accept the risk by adding "${p.node}" to diskBenchmark.allowSlowDisk`,
    };
  }
  if (p99 > p.warnP99Ms) {
    const role = p.isControlPlane ? "" : " (a worker: it holds no etcd data, so this is a warning only)";
    return {
      verdict: "warn",
      message: `slow disk${role}: ${measured}, above diskBenchmark.warnP99Ms ${ms(p.warnP99Ms)}; etcd's guidance is p99 under 10 ms`,
    };
  }
  return { verdict: "pass", message: "" };
}

/** Thrown where a failed gate must stop the deployment. */
export class DiskGateError extends Error {
  constructor(readonly result: GateResult) {
    super(result.message);
    this.name = "DiskGateError";
  }
}

export interface DiskBenchmarkResult extends DiskBenchmarkSummary, GateResult {
  node: string;
  /** Block device and filesystem the data dir lives on, as `df` names them. */
  device: string;
  fstype: string;
  mount: string;
  warmup: EtcdRun;
  /** fio's own runtime summed over every run (warm-up included), ms. */
  fioRuntimeMs: number;
  /** Wall time of the fio processes on the node (adds laying out files), ms. */
  fioWallMs: number;
}

/** Pure: the script's stdout to the judged result. */
export function judge(plan: DiskBenchmarkPlan, stdout: string): DiskBenchmarkResult {
  const out = splitBenchmarkOutput(stdout);
  const etcd = out.outputs.filter((o) => o.profile === "etcd");
  const warm = etcd.find((o) => o.label === "warmup");
  const measured = etcd.filter((o) => o.label !== "warmup");
  if (!warm || measured.length !== plan.runs) {
    throw new Error(`expected a warm-up and ${plan.runs} measured etcd-profile runs, got ${warm ? "a warm-up and " : "no warm-up and "}${measured.length}`);
  }
  const randomOut = out.outputs.find((o) => o.profile === "random");
  if (plan.randomIops && !randomOut) throw new Error("the random 4k profile did not report");
  const runs = measured.map((o) => parseEtcdRun(o.json));
  const random = randomOut ? parseRandomRun(randomOut.json) : undefined;
  const summary = summarize(runs, random);
  const warmup = parseEtcdRun(warm.json);
  return {
    node: plan.node,
    device: out.device,
    fstype: out.fstype,
    mount: out.mount,
    warmup,
    ...summary,
    ...gate(plan, summary, { device: out.device }),
    fioRuntimeMs: [warmup, ...runs].reduce((a, r) => a + r.runtimeMs, 0) + (random?.runtimeMs ?? 0),
    fioWallMs: out.outputs.reduce((a, o) => a + o.wallMs, 0),
  };
}
