// The script's output, read and judged: what a benchmark run results in.
// Pure, so the whole path from fio's JSON to the verdict is unit-tested on
// captured output.
import { splitBenchmarkOutput, type DiskBenchmarkPlan } from "./diskBenchmark";
import { gate, summarize, type DiskBenchmarkSummary, type GateResult } from "./diskGate";
import { parseEtcdRun, parseRandomRun, type EtcdRun } from "./fio";

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
