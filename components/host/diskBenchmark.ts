// Runs a node's disk benchmark over a HostSession and judges the result.
// Everything it decides is in the pure plan (script, parser, gate); this file
// only moves the script to the host and the output back.
import { EXIT, PROGRESS_PREFIX, type DiskBenchmarkPlan } from "../plan/diskBenchmark/script";
import { judge, type DiskBenchmarkResult } from "../plan/diskBenchmark/gate";
import { HostError, type HostSession } from "../ssh/types";

export type { DiskBenchmarkResult };

export interface RunDiskBenchmarkOptions {
  /** Progress lines from the node ("etcd profile: run 2 of 3"), e.g. for the Pulumi log. */
  onProgress?: (line: string) => void;
}

/** Upper bound for one benchmark: generous per fio run, so only a hung disk hits it. */
export function benchmarkTimeoutSeconds(p: Pick<DiskBenchmarkPlan, "runs" | "randomIops" | "randomRuntimeSeconds">): number {
  return 120 * (p.runs + 1) + (p.randomIops ? p.randomRuntimeSeconds + 60 : 0) + 30;
}

function endpoint(s: HostSession): string {
  return `${s.target.address}:${s.target.port}`;
}

/** Run the benchmark and judge it. Does not throw on a failed gate: see `enforceDiskGate`. */
export async function runDiskBenchmark(
  s: HostSession,
  plan: DiskBenchmarkPlan,
  opts: RunDiskBenchmarkOptions = {},
): Promise<DiskBenchmarkResult> {
  const what = `disk benchmark of ${plan.etcdDataDir}`;
  const r = await s.run(plan.script, {
    what,
    timeoutSeconds: benchmarkTimeoutSeconds(plan),
    onLine: (line, stream) => {
      if (stream !== "stderr" || !line.startsWith(PROGRESS_PREFIX)) return;
      opts.onProgress?.(line.slice(PROGRESS_PREFIX.length));
    },
  });
  if (r.code !== 0) {
    const said = r.stderr.split("\n").filter((l) => l.startsWith(PROGRESS_PREFIX)).map((l) => l.slice(PROGRESS_PREFIX.length));
    const other = r.stderr.split("\n").filter((l) => l.trim() !== "" && !l.startsWith(PROGRESS_PREFIX)).slice(-5);
    const cause =
      r.code === EXIT.notEnoughSpace || r.code === EXIT.fioMissing
        ? said[said.length - 1] ?? `exit status ${r.code}`
        : `exit status ${r.code}: ${[...other, ...said.slice(-1)].join(" | ") || "no output"}`;
    throw new HostError(s.target.name, endpoint(s), what, cause);
  }

  let result: DiskBenchmarkResult;
  try {
    result = judge(plan, r.stdout);
  } catch (e) {
    throw new HostError(s.target.name, endpoint(s), `reading the ${what}`, (e as Error).message);
  }
  return result;
}

/** Throws the gate's refusal as `<host> (<address>:<port>): disk benchmark gate: ...`. */
export function enforceDiskGate(s: Pick<HostSession, "target">, result: DiskBenchmarkResult): void {
  if (result.verdict === "fail") {
    throw new HostError(s.target.name, endpoint(s as HostSession), "disk benchmark gate", result.message);
  }
}
