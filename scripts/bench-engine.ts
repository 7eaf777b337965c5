// Benchmark: `pulumi preview` of prepared hosts through the real engine, on 3
// and then 9 lab hosts, split into the SSH work the preview waits for and
// the engine's own overhead. Goals: a preview of 3 prepared hosts under 15 s;
// 9 hosts at most 1.5x the time of 3.
//
//   sudo npx tsx scripts/bench-engine.ts      (needs the lab and `pulumi`)
//
// Recreates the lab (`scripts/lab up 3`, `up 9`, and `up 3` again at the
// end): hosts of a running lab are replaced by fresh ones.
//
// "SSH work" is what a preview asks of the hosts, timed by running the
// program's own start-up functions outside the engine: facts and preflight
// of every host, then every node's read-only probes, all hosts in parallel.
// The rest of the wall time is the engine,
// the language host, the program's start-up and the dynamic-provider
// process.
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { loadStackFile } from "../components/config/load";
import { buildPlan } from "../components/plan";
import { hostFacts, pendingSteps } from "../components/host/startup";
import { engineStack } from "../test/support/engine";

const ROOT = resolve(__dirname, "..");
const PREVIEWS = 3;

function labUp(n: number): void {
  console.log(`-- scripts/lab up ${n}`);
  execFileSync(resolve(ROOT, "scripts/lab"), ["up", String(n)], { stdio: ["ignore", "ignore", "inherit"] });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function sshWork(stackName: string): Promise<number> {
  const spec = loadStackFile(resolve(ROOT, "stacks"), stackName);
  const plan = buildPlan(spec);
  const started = Date.now();
  // The program's own start-up: facts and preflight, then every host's probes.
  const { facts } = await hostFacts(spec, { keepConnections: true, log: () => undefined });
  await pendingSteps(spec, plan.nodes, facts);
  return (Date.now() - started) / 1000;
}

async function round(n: number): Promise<{ n: number; preview: number; ssh: number; up: number }> {
  labUp(n);
  const { stack, skip } = engineStack(`lab-bench-${n}`, { layers: "hosts" });
  if (!stack) throw new Error(skip);
  try {
    const run = async (args: string[]) => {
      const t = Date.now();
      const r = await stack.pulumi(args);
      if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
      return (Date.now() - t) / 1000;
    };
    await run(["stack", "init", "--secrets-provider", "passphrase"]);
    const up = await run(["up", "--yes", "--skip-preview"]);
    const previews: number[] = [];
    for (let i = 0; i < PREVIEWS; i++) previews.push(await run(["preview"]));
    const ssh = median([await sshWork(stack.name), await sshWork(stack.name), await sshWork(stack.name)]);
    await run(["destroy", "--yes", "--skip-preview"]);
    const preview = median(previews);
    console.log(`${n} hosts: up (fresh hosts) ${up.toFixed(1)} s; preview (prepared) median of ${PREVIEWS}: ${preview.toFixed(1)} s [${previews.map((p) => p.toFixed(1)).join(", ")}]`);
    console.log(`  SSH work a preview waits for: ${ssh.toFixed(1)} s; engine and program overhead: ${(preview - ssh).toFixed(1)} s (${Math.round((100 * (preview - ssh)) / preview)}%)`);
    return { n, preview, ssh, up };
  } finally {
    stack.remove();
  }
}

async function main(): Promise<void> {
  const rounds = [];
  try {
    for (const n of [3, 9]) rounds.push(await round(n));
  } finally {
    labUp(3);
  }
  const [three, nine] = rounds;
  console.log("");
  console.log(`preview of 3 prepared hosts: ${three.preview.toFixed(1)} s (goal < 15 s): ${three.preview < 15 ? "met" : "missed"}`);
  const ratio = nine.preview / three.preview;
  console.log(`preview 9 hosts / 3 hosts: ${ratio.toFixed(2)}x (goal <= 1.5x): ${ratio <= 1.5 ? "met" : "missed"}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
