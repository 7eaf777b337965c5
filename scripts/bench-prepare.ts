// Benchmark: prepare 3 and then 9 fresh lab hosts, the way `pulumi up` does
// (facts of all hosts, preflight, then every host's prep steps in parallel),
// and print the wall time of each round, their ratio (goal: 9 hosts take
// under 1.5x the time of 3) and the SSH connections opened per host (goal: 1).
//
//   sudo npx tsx scripts/bench-prepare.ts
//
// Recreates the lab (`scripts/lab up 3`, `up 9`, and `up 3` again at the
// end): hosts of a running lab are replaced by fresh ones.
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { loadStackFile } from "../components/config/load";
import { buildPlan } from "../components/plan";
import { closeAll, connectionsOpened, resetConnectionCounts } from "../components/ssh/pool";
import { session } from "../components/ssh/session";
import { targetFor } from "../components/plan/targets";
import { runSteps, type StepResult } from "../components/host/runSteps";
import { hostFacts } from "../components/host/startup";

const ROOT = resolve(__dirname, "..");

function labUp(n: number): void {
  console.log(`-- scripts/lab up ${n}`);
  execFileSync(resolve(ROOT, "scripts/lab"), ["up", String(n)], { stdio: ["ignore", "ignore", "inherit"] });
}

async function prepareAll(n: number): Promise<{ seconds: number; connections: Record<string, number>; results: Record<string, StepResult[]> }> {
  const spec = loadStackFile(resolve(ROOT, "stacks"), "lab");
  if (spec.hosts.length !== n) throw new Error(`expected ${n} lab hosts, the lab stack has ${spec.hosts.length}`);
  const plan = buildPlan(spec);
  resetConnectionCounts();
  const started = Date.now();
  const { facts } = await hostFacts(spec, { keepConnections: true, log: () => undefined });
  const results = Object.fromEntries(
    await Promise.all(
      plan.nodes.map(async (node) => [node.name, await runSteps(session(targetFor(spec, node.name)), node.prep, { virt: facts[node.name].virt })] as const),
    ),
  );
  const seconds = (Date.now() - started) / 1000;
  const connections = connectionsOpened();
  await closeAll();
  return { seconds, connections, results };
}

function summary(results: Record<string, StepResult[]>): string {
  const count = new Map<string, number>();
  for (const rs of Object.values(results)) for (const r of rs) count.set(r.status, (count.get(r.status) ?? 0) + 1);
  return [...count.entries()].map(([k, v]) => `${k} ${v}`).join(", ");
}

async function main(): Promise<void> {
  const rounds: { n: number; seconds: number; maxConnections: number }[] = [];
  try {
    for (const n of [3, 9]) {
      labUp(n);
      const r = await prepareAll(n);
      const maxConnections = Math.max(...Object.values(r.connections));
      rounds.push({ n, seconds: r.seconds, maxConnections });
      console.log(`${n} hosts: ${r.seconds.toFixed(1)} s wall time; steps: ${summary(r.results)}`);
      console.log(`  SSH connections opened per host: ${JSON.stringify(r.connections)}`);
    }
  } finally {
    labUp(3);
  }
  const [three, nine] = rounds;
  const ratio = nine.seconds / three.seconds;
  console.log("");
  console.log(`prepare 3 hosts: ${three.seconds.toFixed(1)} s`);
  console.log(`prepare 9 hosts: ${nine.seconds.toFixed(1)} s`);
  console.log(`ratio 9/3: ${ratio.toFixed(2)} (goal < 1.5: ${ratio < 1.5 ? "met" : "missed"})`);
  console.log(`max SSH connections per host: ${Math.max(three.maxConnections, nine.maxConnections)} (goal 1)`);
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
