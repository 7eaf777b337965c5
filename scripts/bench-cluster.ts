// Benchmark: `pulumi up` from bare lab hosts to a Ready 3 control plane +
// 1 worker cluster (air-gapped, the bundle from scripts/bundle/build), beside
// the floor: the same work done directly over SSH on fresh hosts with the
// same bundle and the same plan, no engine, no gates: host preparation, the
// bundle sent and installed, kubeadm init, the joins one after another, the
// pod network, every node Ready. Goal: ironroot at most 1.25x the floor.
//
//   sudo npx tsx scripts/bench-cluster.ts     (needs the lab, the bundle and `pulumi`)
//
// Recreates the lab twice (`scripts/lab up 4`): hosts of a running lab are
// replaced by fresh ones, and the last cluster is left running.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULT_KUBERNETES_VERSION } from "../components/config/kubernetesReleases";
import { loadStackFile } from "../components/config/load";
import { buildPlan } from "../components/plan";
import { closeAll } from "../components/ssh/pool";
import { session } from "../components/ssh/session";
import { targetFor } from "../components/plan/targets";
import { readLocalBundle, uploadBundle } from "../components/host/offlineBundle";
import { runSteps } from "../components/host/runSteps";
import { engineStack } from "../test/support/engine";

const ROOT = resolve(__dirname, "..");
const BUNDLE = join(process.env.IRONROOT_CACHE ?? "/var/cache/ironroot", "bundle", "out", DEFAULT_KUBERNETES_VERSION);

function labUp(): void {
  console.log("-- scripts/lab up 4 (fresh hosts)");
  execFileSync(resolve(ROOT, "scripts/lab"), ["up", "4"], { stdio: ["ignore", "ignore", "inherit"] });
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The floor: the plan's own scripts, run directly, every host in parallel where the install allows it. */
async function floor(): Promise<Record<string, number>> {
  const lab = loadStackFile(resolve(ROOT, "stacks"), "lab");
  const spec = { ...lab, layers: "kubernetes" as const, cluster: { ...lab.cluster, offlineBundleDir: BUNDLE, cni: "flannel" as const } };
  const bundle = await readLocalBundle(BUNDLE, spec.cluster.kubernetesVersion);
  const plan = buildPlan(spec, { kubeadm: { bundle: bundle.manifest } });
  const k = plan.cluster.kubeadm;
  const s = (name: string) => session(targetFor(spec, name));
  const phases: Record<string, number> = {};
  const phase = async (name: string, work: () => Promise<unknown>) => {
    const t = Date.now();
    await work();
    phases[name] = Date.now() - t;
  };
  const must = async (host: string, script: string, stdin?: string) => {
    const r = await s(host).run(script, { timeoutSeconds: 900, ...(stdin ? { stdin, secrets: [stdin] } : {}) });
    if (r.code !== 0) throw new Error(`${host}: exit ${r.code}: ${r.stderr.slice(-500)}`);
    return r.stdout;
  };
  await phase("host preparation", () => Promise.all(plan.nodes.map((n) => runSteps(s(n.name), n.prep))));
  await phase("bundle sent and checked", () => Promise.all(plan.nodes.map((n) => uploadBundle(s(n.name), bundle))));
  await phase("node steps (install from the bundle, load balancer)", () =>
    Promise.all(k.nodes.map(async (n) => {
      await must(n.name, "mkdir -p /etc/kubernetes/kubelet.conf.d");
      await runSteps(s(n.name), n.steps);
    })));
  const [first, ...rest] = k.nodes.filter((n) => n.isControlPlane);
  await phase("kubeadm init", () => must(first.name, first.init!));
  await phase("joins (control planes one by one, then workers)", async () => {
    for (const n of rest) await must(n.name, n.join, await must(first.name, k.credentials));
    const creds = await must(first.name, k.credentials);
    await Promise.all(k.nodes.filter((n) => !n.isControlPlane).map((n) => must(n.name, n.join, creds)));
  });
  await phase("pod network and every node Ready", async () => {
    await must(first.name, k.cni);
    await must(first.name, k.waitReady);
  });
  await closeAll();
  return phases;
}

async function main(): Promise<void> {
  if (!existsSync(join(BUNDLE, "bundle.json"))) throw new Error(`no bundle in ${BUNDLE}: run scripts/bundle/build first`);

  labUp();
  const t0 = Date.now();
  const floorPhases = await floor();
  const floorMs = Date.now() - t0;

  labUp();
  const lab = loadStackFile(resolve(ROOT, "stacks"), "lab");
  const { stack, skip } = engineStack("bench-cluster", { layers: "kubernetes", cluster: { ...lab.cluster, offlineBundleDir: BUNDLE, cni: "flannel" } });
  if (!stack) throw new Error(`cannot run the engine: ${skip}`);
  try {
    await stack.pulumi(["stack", "init", "--secrets-provider", "passphrase"]);
    const t1 = Date.now();
    const up = await stack.pulumi(["up", "--yes", "--skip-preview"], { timeoutMs: 1_800_000 });
    const upMs = Date.now() - t1;
    if (up.code !== 0) throw new Error(`pulumi up failed:\n${(up.stdout + up.stderr).slice(-3000)}`);

    console.log("\nfloor (the same install directly over SSH, no engine, no gates):");
    for (const [name, ms] of Object.entries(floorPhases)) console.log(`  ${name.padEnd(52)} ${seconds(ms)}`);
    console.log(`  ${"total".padEnd(52)} ${seconds(floorMs)}`);
    console.log(`\npulumi up, bare hosts to every node Ready:              ${seconds(upMs)}`);
    console.log(`  (also: facts and preflight, the disk benchmark, kubelet files, the engine)`);
    const ratio = upMs / floorMs;
    console.log(`ratio: ${ratio.toFixed(2)}x (goal: at most 1.25x) -> ${ratio <= 1.25 ? "met" : "NOT met"}`);
  } finally {
    stack.remove();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
