// Disk benchmark overhead on the lab hosts: per node, fio's own runtime and
// the fio processes' wall time against the total wall time of the benchmark
// as ironroot runs it (SSH, the script, parsing, cleanup), all nodes in
// parallel as in a deployment. Goal: overhead under 2 s per node.
//
//   npx tsx scripts/bench-disk.ts [--stack lab] [--runs N] [--random-seconds S]
import { resolve } from "node:path";
import { loadStackFile } from "../components/config/load";
import { buildPlan } from "../components/plan";
import { diskBenchmarkScript } from "../components/plan/diskBenchmark/script";
import { closeAll } from "../components/ssh/pool";
import { session } from "../components/ssh/session";
import { targetFor } from "../components/plan/targets";
import { runDiskBenchmark } from "../components/host/diskBenchmark";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const stack = arg("stack", "lab");
  const spec = loadStackFile(resolve(__dirname, "../stacks"), stack);
  const runs = Number(arg("runs", String(spec.diskBenchmark.runs)));
  const randomRuntimeSeconds = Number(arg("random-seconds", String(spec.diskBenchmark.randomRuntimeSeconds)));
  const nodes = buildPlan(spec).nodes;

  // Connections are opened first and timed apart: a deployment opens them once for every step.
  const sessions = nodes.map((n) => session(targetFor(spec, n.name)));
  const connectStart = Date.now();
  await Promise.all(sessions.map((s) => s.check("connecting", "true")));
  const connectMs = Date.now() - connectStart;

  const rows = await Promise.all(
    nodes.map(async (n, i) => {
      // Own directory, so the benchmark never meets a real etcd data dir on the lab.
      const p = { ...n.diskBenchmark, runs, randomRuntimeSeconds, etcdDataDir: `/var/tmp/ironroot-bench-disk/${n.name}/etcd`, minFreeMb: 64 };
      const plan = { ...p, script: diskBenchmarkScript(p) };
      const start = Date.now();
      const r = await runDiskBenchmark(sessions[i], plan);
      const totalMs = Date.now() - start;
      return { node: n.name, r, totalMs };
    }),
  );
  await closeAll();

  console.log(`stack ${stack}: ${nodes.length} nodes in parallel, ${runs} measured runs + 1 warm-up, random profile ${randomRuntimeSeconds} s; SSH connect (all, once): ${connectMs} ms`);
  console.log(["node", "p99 ms (median)", "p99 spread ms", "write IOPS", "rand r/w IOPS", "fio runtime ms", "fio wall ms", "total ms", "overhead ms", "verdict"].join("\t"));
  for (const { node, r, totalMs } of rows) {
    console.log(
      [
        node,
        r.medianMs.p99.toFixed(3),
        `${r.p99SpreadMs.min.toFixed(3)}-${r.p99SpreadMs.max.toFixed(3)}`,
        r.writeIops.toFixed(0),
        r.random ? `${r.random.readIops.toFixed(0)}/${r.random.writeIops.toFixed(0)}` : "-",
        r.fioRuntimeMs,
        r.fioWallMs,
        totalMs,
        totalMs - r.fioWallMs,
        r.verdict,
      ].join("\t"),
    );
  }
  console.log("fio runtime: fio's own job runtime; fio wall: the fio processes on the node (adds laying out files); overhead = total - fio wall (SSH, script, parsing, cleanup)");
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
