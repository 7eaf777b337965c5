// The disaster-recovery drill (run by scripts/dr-drill, as root): lab hosts
// on one subnet get every host-side layer; that lab is destroyed; new hosts
// come up on another subnet; scripts/rebuild.ts makes the new stack from the
// old stack's file; the layers are applied again; and the drill asserts the
// same plan apart from addresses and host keys, the same sealing key, and
// the same repo and root app. Each phase's time is printed.
//
// It only ever uses its own two subnets (never the default lab on 10.77.0,
// which other people use) and takes both down again, whatever happens.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import YAML from "yaml";
import { loadStackFile } from "../../components/config/load";
import type { StackSpec } from "../../components/config/schema";
import { buildPlan } from "../../components/plan";
import { kubeletPlans, type NodeSize } from "../../components/plan/kubelet";
import { assertPreflight, formatReport, preflight, type Observation } from "../../components/plan/preflight";
import { closeAll } from "../../components/ssh/pool";
import { session } from "../../components/ssh/session";
import { targetFor } from "../../components/plan/targets";
import { gatherFacts } from "../../components/host/gatherFacts";
import { applyKubeletDropIn } from "../../components/host/kubeletRollout";
import { runDiskBenchmark } from "../../components/host/diskBenchmark";
import { runSteps, type StepResult } from "../../components/host/runSteps";
import { differences, hostSwaps, swapDeep } from "../../test/support/addresses";
import { rebuild, RebuildError } from "../../components/config/rebuild";

const REPO = resolve(__dirname, "../..");
const LAB = join(REPO, "scripts/lab");
const DEFAULT_LAB_SUBNET = "10.77.0";

interface Options {
  from: string;
  to: string;
  hosts: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { from: "10.77.8", to: "10.77.9", hosts: 3 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === "--from-subnet" && v) o.from = argv[++i];
    else if (argv[i] === "--to-subnet" && v) o.to = argv[++i];
    else if (argv[i] === "--hosts" && v) o.hosts = Number(argv[++i]);
    else throw new Error(`dr-drill: unknown argument ${argv[i]}: use --from-subnet A.B.C --to-subnet A.B.C --hosts N`);
  }
  for (const s of [o.from, o.to]) {
    if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(s)) throw new Error(`dr-drill: subnet "${s}" is not three octets like 10.77.8`);
    if (s === DEFAULT_LAB_SUBNET) throw new Error(`dr-drill: ${s} is the shared default lab: the drill tears its labs down, so give it subnets of its own`);
  }
  if (o.from === o.to) throw new Error("dr-drill: --from-subnet and --to-subnet must differ: a rebuild on the same addresses proves nothing");
  if (!Number.isInteger(o.hosts) || o.hosts < 1 || o.hosts > 9) throw new Error("dr-drill: --hosts is 1..9");
  return o;
}

const timings: [string, number][] = [];

async function phase<T>(name: string, f: () => T | Promise<T>): Promise<T> {
  const start = process.hrtime.bigint();
  console.log(`\n== ${name}`);
  try {
    return await f();
  } finally {
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    timings.push([name, s]);
    console.log(`== ${name}: ${s.toFixed(1)} s`);
  }
}

function lab(...args: string[]): void {
  const r = spawnSync(LAB, args, { stdio: "inherit", timeout: 1800_000 });
  if (r.status !== 0) throw new Error(`scripts/lab ${args.join(" ")} failed (exit ${String(r.status ?? r.signal)})`);
}

const labStackFile = (subnet: string) => join(REPO, "stacks", `Pulumi.lab-${subnet.replace(/\./g, "-")}.yaml`);

/**
 * The "old" stack: the lab's stack file plus what a production stack carries
 * and a rebuild needs: an SSH repo URL with its pinned host key, and the
 * deploy key and sealing key as encrypted values with their salt. The values
 * are random test bytes made here (never real keys, never printed); the
 * drill proves they reach the new stack unchanged.
 */
function makeOldStack(labFile: string, stacksDir: string): string {
  const doc = YAML.parseDocument(readFileSync(labFile, "utf8"));
  const b64 = (n: number) => randomBytes(n).toString("base64");
  doc.setIn(["encryptionsalt"], `v1:${b64(8)}:v1:${b64(12)}:${b64(22)}`);
  doc.setIn(["config", "ironroot:gitops", "repoUrl"], "ssh://git@github.com/argoproj/argocd-example-apps.git");
  doc.setIn(
    ["config", "ironroot:gitops", "knownHosts"],
    "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
  );
  doc.setIn(["config", "ironroot:deployKey"], doc.createNode({ secure: `v1:${b64(12)}:${b64(450)}` }));
  doc.setIn(["config", "ironroot:sealingKey"], doc.createNode({ secure: `v1:${b64(12)}:${b64(3000)}` }));
  const path = join(stacksDir, "Pulumi.drill-old.yaml");
  writeFileSync(path, doc.toString({ lineWidth: 0 }), { mode: 0o600 });
  return path;
}

interface LayerReport {
  sizes: Record<string, NodeSize>;
  prep: Record<string, StepResult[]>;
  snapshots: Record<string, StepResult[]>;
  disk: Record<string, string>;
  kubelet: Record<string, string>;
}

/** Every host-side layer that runs without Kubernetes packages, on every host at once. */
async function applyHostLayers(spec: StackSpec): Promise<LayerReport> {
  const plan = buildPlan(spec);
  const sessions = Object.fromEntries(spec.hosts.map((h) => [h.name, session(targetFor(spec, h))]));
  const report: LayerReport = { sizes: {}, prep: {}, snapshots: {}, disk: {}, kubelet: {} };

  const observed: Record<string, Observation> = {};
  await phase(`${spec.stack}: facts and preflight`, async () => {
    await Promise.all(spec.hosts.map(async (h) => {
      observed[h.name] = await gatherFacts(sessions[h.name], h.etcdDataDir);
    }));
    const reports = preflight(spec, observed);
    for (const r of reports) console.log(formatReport(r));
    assertPreflight(reports);
    for (const [name, o] of Object.entries(observed)) report.sizes[name] = { cpus: o.facts.cpus, memoryBytes: o.facts.memoryBytes };
  });

  await phase(`${spec.stack}: host preparation and etcd snapshot timer`, () =>
    Promise.all(plan.nodes.map(async (n) => {
      const s = sessions[n.name];
      const virt = observed[n.name].facts.virt;
      report.prep[n.name] = await runSteps(s, n.prep, { virt, onLine: (l) => console.log(l) });
      if (n.etcdSnapshot.length > 0) {
        report.snapshots[n.name] = await runSteps(s, n.etcdSnapshot, { virt, onLine: (l) => console.log(l) });
      }
      // Applied means a second pass only probes and finds nothing to do.
      const again = await runSteps(s, n.prep, { virt, dryRun: true });
      const pending = again.filter((r) => r.status === "would-change").map((r) => r.id);
      if (pending.length > 0) throw new Error(`${n.name}: steps still pending right after applying them: ${pending.join(", ")}`);
    })),
  );

  await phase(`${spec.stack}: etcd disk benchmark`, () =>
    Promise.all(plan.nodes.filter((n) => n.isControlPlane).map(async (n) => {
      const r = await runDiskBenchmark(sessions[n.name], n.diskBenchmark);
      // The verdict is reported, not enforced: the drill is about recovery,
      // and a CI machine's disk is not the production disk.
      report.disk[n.name] = `${r.verdict} (fdatasync p99 ${r.medianMs.p99.toFixed(2)} ms)`;
      console.log(`${n.name}: disk benchmark: ${report.disk[n.name]}`);
    })),
  );

  await phase(`${spec.stack}: kubelet reservations`, async () => {
    const plans = kubeletPlans(spec, plan.nodes, report.sizes);
    await Promise.all(plans.map(async (p) => {
      if (!p.content || !p.fields) throw new Error(`${p.node}: no kubelet configuration planned: ${JSON.stringify(p.explanation)}`);
      const r = await applyKubeletDropIn(sessions[p.node], {
        nodeName: p.node,
        path: p.path,
        content: p.content,
        fields: p.fields,
        drainTimeoutSeconds: 120,
        readyTimeoutSeconds: 120,
        log: (l) => console.log(l),
      });
      report.kubelet[p.node] = r.path;
    }));
  });
  return report;
}

function check(failures: string[], what: string, problems: string[]): void {
  if (problems.length === 0) {
    console.log(`ok   ${what}`);
  } else {
    console.log(`FAIL ${what}:\n${problems.map((p) => `       ${p}`).join("\n")}`);
    failures.push(what);
  }
}

async function drill(o: Options, work: string): Promise<string[]> {
  const failures: string[] = [];
  await phase(`old hosts: scripts/lab up ${o.hosts} --subnet ${o.from}`, () => lab("up", String(o.hosts), "--subnet", o.from));
  const oldFile = makeOldStack(labStackFile(o.from), work);
  const oldSpec = loadStackFile(work, "drill-old");
  const oldLayers = await applyHostLayers(oldSpec);
  await closeAll();

  await phase(`the datacenter burns: scripts/lab down --subnet ${o.from}`, () => lab("down", "--subnet", o.from));
  await phase(`new hosts: scripts/lab up ${o.hosts} --subnet ${o.to}`, () => lab("up", String(o.hosts), "--subnet", o.to));

  const rebuilt = await phase("scripts/rebuild.ts --from drill-old --to drill-new", () => {
    // The new lab's stack file is the host list a person would write by hand.
    const hostsFile = join(work, "new-hosts.yaml");
    copyFileSync(labStackFile(o.to), hostsFile);
    // First without the sealing key: it must refuse before writing anything.
    const noKey = YAML.parseDocument(readFileSync(oldFile, "utf8"));
    noKey.deleteIn(["config", "ironroot:sealingKey"]);
    writeFileSync(join(work, "Pulumi.drill-nokey.yaml"), noKey.toString({ lineWidth: 0 }), { mode: 0o600 });
    try {
      rebuild({ from: "drill-nokey", to: "drill-nokey-new", hostsFile, stacksDir: work });
      failures.push("a rebuild without the sealing key was not refused");
    } catch (e) {
      const named = e instanceof RebuildError && e.problems.some((p) => p.startsWith("sealingKey: missing"));
      check(failures, "a rebuild without the sealing key is refused, naming it, before writing anything",
        named && !existsSync(join(work, "Pulumi.drill-nokey-new.yaml")) ? [] : [String(e)]);
    }
    const r = rebuild({ from: "drill-old", to: "drill-new", hostsFile, stacksDir: work });
    for (const c of r.commands) console.log(`  next: ${c}`);
    return r;
  });
  const newSpec = loadStackFile(work, "drill-new");
  const newLayers = await applyHostLayers(newSpec);
  await closeAll();

  await phase("compare old and new", () => {
    const swaps = hostSwaps(oldSpec.hosts, newSpec.hosts);
    check(failures, `every host has a new address (${[...swaps.keys()].filter((k) => !k.includes(" ")).length} of ${oldSpec.hosts.length})`,
      oldSpec.hosts.filter((h) => !swaps.has(h.address)).map((h) => `${h.name} kept ${h.address}`));
    // With the measured node sizes, so the sized kubelet reservations are part of the comparison.
    const oldPlan = swapDeep(buildPlan({ ...oldSpec, stack: "drill" }, { nodeSizes: oldLayers.sizes }), swaps);
    const newPlan = buildPlan({ ...newSpec, stack: "drill" }, { nodeSizes: newLayers.sizes });
    check(failures, "the same plan apart from addresses and host keys", differences(oldPlan, newPlan));
    check(failures, "the same kubelet reservations", differences(oldPlan.nodes.map((n) => n.kubelet), newPlan.nodes.map((n) => n.kubelet)));
    check(failures, "the same repo", differences(oldSpec.gitops, newSpec.gitops));
    check(failures, "the same root app", differences(oldPlan.cluster.rootApp, newPlan.cluster.rootApp));
    const oldDoc = YAML.parse(readFileSync(oldFile, "utf8"));
    const newDoc = YAML.parse(readFileSync(rebuilt.path, "utf8"));
    const same = (path: string[]) => {
      const get = (d: unknown) => path.reduce((v: unknown, k) => (v as Record<string, unknown> | undefined)?.[k], d);
      // Compared, never printed: these are (test) secrets.
      return get(oldDoc) !== undefined && get(oldDoc) === get(newDoc) ? [] : [`${path.join(".")} differs or is missing`];
    };
    check(failures, "the same sealing key (ciphertext and the salt that decrypts it, byte for byte)",
      [...same(["config", "ironroot:sealingKey", "secure"]), ...same(["encryptionsalt"])]);
    check(failures, "the same deploy key", same(["config", "ironroot:deployKey", "secure"]));
    const layerStatus = (r: LayerReport) => ({ prep: r.prep, snapshots: r.snapshots, kubelet: r.kubelet });
    check(failures, "the host layers did the same on the new hosts", differences(layerStatus(oldLayers), layerStatus(newLayers)));
    console.log(`disk benchmark, old: ${JSON.stringify(oldLayers.disk)}\ndisk benchmark, new: ${JSON.stringify(newLayers.disk)}`);
  });
  return failures;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    console.error("dr-drill: must run as root (it runs scripts/lab): sudo scripts/dr-drill");
    return 1;
  }
  const labCheck = spawnSync(LAB, ["check"], { encoding: "utf8" });
  if (labCheck.status !== 0) {
    console.log(`dr-drill: SKIPPED: the lab cannot run on this machine, so there are no hosts to drill on:\n${labCheck.stdout}${labCheck.stderr}`);
    return 0;
  }
  // The default lab belongs to everyone else; the drill must leave it as it found it.
  const defaultLab = join(REPO, "stacks", "Pulumi.lab.yaml");
  const defaultLabWasUp = existsSync(defaultLab);
  const work = mkdtempSync(join(tmpdir(), "ironroot-dr-drill-"));
  let failures: string[] = [];
  let error: unknown;
  const started = process.hrtime.bigint();
  try {
    failures = await drill(o, work);
  } catch (e) {
    error = e;
  } finally {
    await closeAll();
    // Both labs go, whatever happened; the default lab is never touched.
    for (const s of [o.from, o.to]) spawnSync(LAB, ["down", "--subnet", s], { stdio: "inherit", timeout: 300_000 });
    rmSync(work, { recursive: true, force: true });
  }
  if (defaultLabWasUp && !existsSync(defaultLab)) {
    console.log(`\nnote: the default lab (${DEFAULT_LAB_SUBNET}) went down while the drill ran; the drill only took down ${o.from} and ${o.to}, so something else did`);
  }
  const total = Number(process.hrtime.bigint() - started) / 1e9;
  console.log("\n== phase timings");
  for (const [name, s] of timings) console.log(`${s.toFixed(1).padStart(8)} s  ${name}`);
  const controlled = timings.filter(([n]) => n.startsWith("drill-new") || n.startsWith("scripts/rebuild")).reduce((a, [, s]) => a + s, 0);
  console.log(`${controlled.toFixed(1).padStart(8)} s  recovery on the new hosts that ironroot controls (rebuild + host layers)`);
  console.log(`${total.toFixed(1).padStart(8)} s  whole drill`);
  if (error) {
    console.error(`\ndr-drill: FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  if (failures.length > 0) {
    console.error(`\ndr-drill: FAILED: ${failures.length} check(s): ${failures.join("; ")}`);
    return 1;
  }
  console.log("\ndr-drill: passed");
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(`dr-drill: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
