// The engine tier: the real `pulumi` CLI runs ironroot's program against the
// lab's hosts, with `layers: hosts` (host preparation, disk gate, kubelet
// drop-in). Each test continues from the state the one before left, in the
// order a user would go: preview, up, preview again, drift, a config
// change, an interrupted run, a rotated key, then refresh and destroy from a
// second clone.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadStackFile } from "../../components/config/load";
import { buildPlan } from "../../components/plan";
import { KUBELET_DROP_IN } from "../../components/plan/kubelet/dropIn";
import { closeAll } from "../../components/ssh/pool";
import { session } from "../../components/ssh/session";
import { targetFor } from "../../components/plan/targets";
import { runSteps } from "../../components/host/runSteps";
import type { HostSession } from "../../components/ssh/types";
import { engineStack, REPO } from "../support/engine";
import { secondClone } from "../support/secondClone";

const NAME = "lab-engine";
// Everything up to the last test runs from this clone; the last test deletes
// it and goes on from another one, as a teammate or a CI runner would.
const origin = secondClone();
const { stack, skip } = engineStack(NAME, { layers: "hosts" }, origin.dir);
if (skip) origin.remove();

interface PreviewStep {
  op: string;
  urn: string;
  oldState?: { inputs: Record<string, unknown> };
  newState?: { type: string; inputs: Record<string, unknown> };
}
interface PreviewJson {
  steps: PreviewStep[];
  changeSummary: Record<string, number>;
  diagnostics?: { message: string; severity: string }[];
}

const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

async function previewJson(args: string[] = []): Promise<PreviewJson> {
  const r = await stack!.pulumi(["preview", "--json", ...args]);
  assert.equal(r.code, 0, `pulumi preview failed:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout) as PreviewJson;
}

/** Dotted paths of the input values that differ between a step's old and new state: the fields the engine shows as changed. */
function changedFields(step: PreviewStep): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (k !== "__provider") walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      }
    } else if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path);
  };
  walk(step.oldState?.inputs, step.newState?.inputs, "");
  return out.sort();
}

/** The changes a preview would make, as "<op> <resource>" (refreshes and unchanged resources left out). */
function changes(p: PreviewJson): string[] {
  return p.steps.filter((s) => !["same", "refresh"].includes(s.op)).map((s) => `${s.op} ${nameOf(s.urn)}`).sort();
}

describe("the engine on lab hosts (layers: hosts)", { skip }, () => {
  const spec = skip ? undefined : loadStackFile(join(origin.dir, "stacks"), NAME);
  const hosts = spec?.hosts.map((h) => h.name) ?? [];
  const sessions = new Map<string, HostSession>();
  const ssh = (host: string) => sessions.get(host)!;
  // What host state looks like, for "changed nothing": installed packages and the files preparation writes.
  const fingerprint = async (host: string) =>
    createHash("sha256")
      .update(await ssh(host).check("fingerprint", "dpkg-query -W -f '${Package} ${Version} ${Status}\\n' | sort; cat /etc/sysctl.d/*ironroot* /etc/modules-load.d/*ironroot* /etc/containerd/config.toml 2>/dev/null || true"))
      .digest("hex");

  before(async () => {
    for (const h of spec!.hosts) sessions.set(h.name, session(targetFor(spec!, h)));
    const init = await stack!.pulumi(["stack", "init", "--secrets-provider", "passphrase"]);
    assert.equal(init.code, 0, init.stderr);
  });
  after(async () => {
    await closeAll();
    stack?.remove();
    origin.remove();
  });

  test("a wrong value in the stack config: preview names the setting and the fix, with no stack trace, and touches nothing", async () => {
    await stack!.pulumi(["config", "set", "--path", "diskBenchmark.failP99Ms", "fast"]);
    const r = await stack!.pulumi(["preview"]);
    await stack!.pulumi(["config", "rm", "--path", "diskBenchmark.failP99Ms"]);
    assert.notEqual(r.code, 0);
    const out = r.stdout + r.stderr;
    assert.match(out, /diskBenchmark\.failP99Ms: expected a number, got the text "fast"/);
    assert.doesNotMatch(out, /^\s+at .*\.ts:\d+/m, "a config mistake must not print a stack trace");
  });

  test("a missing offline bundle folder: preview names cluster.offlineBundleDir, with no stack trace, and ends (the hosts' connections closed)", async () => {
    const missing = join(stack!.checkout, "no-such-bundle");
    await stack!.pulumi(["config", "set", "--path", "cluster.offlineBundleDir", missing]);
    const r = await stack!.pulumi(["preview"], { timeoutMs: 90_000 });
    await stack!.pulumi(["config", "rm", "--path", "cluster.offlineBundleDir"]);
    const out = r.stdout + r.stderr;
    assert.notEqual(r.code, null, `preview was still running after 90 s, killed:\n${out.slice(-3000)}`);
    assert.notEqual(r.code, 0, out);
    assert.ok(out.includes(`cluster.offlineBundleDir: the folder ${missing} does not exist on this machine`), out.slice(-3000));
    assert.doesNotMatch(out, /^\s+at .*\.ts:\d+/m, "a bundle mistake must not print a stack trace");
  });

  test("preview: per node, exactly the preparation steps a read-only probe finds pending; the hosts are not changed", async () => {
    const plan = buildPlan(spec!);
    const expected: Record<string, string[]> = {};
    const before: Record<string, string> = {};
    for (const n of plan.nodes) {
      const probed = await runSteps(ssh(n.name), n.prep, { dryRun: true });
      expected[n.name] = probed.filter((r) => r.status === "would-change").map((r) => r.id);
      before[n.name] = await fingerprint(n.name);
    }
    const p = await previewJson();
    for (const host of hosts) {
      const prep = p.steps.find((s) => nameOf(s.urn) === `${host}-prep`);
      assert.ok(prep, `no step for ${host}-prep`);
      assert.equal(prep.op, "create");
      assert.deepEqual(prep.newState!.inputs.pendingSteps, expected[host], `${host}: pending steps`);
      assert.equal(await fingerprint(host), before[host], `${host}: preview changed the host`);
    }
  });

  test("up applies every host layer; every node then reports nothing pending", async () => {
    const r = await stack!.pulumi(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, `pulumi up failed:\n${r.stdout}\n${r.stderr}`);
    const out = await stack!.pulumi(["stack", "output", "--json"]);
    const outputs = JSON.parse(out.stdout) as { pendingSteps: Record<string, string[]>; layers: string; diskBenchmarks: Record<string, { verdict: string }> };
    assert.equal(outputs.layers, "hosts");
    assert.deepEqual(outputs.pendingSteps, Object.fromEntries(hosts.map((h) => [h, []])));
    for (const h of hosts) {
      assert.ok(["pass", "warn", "override"].includes(outputs.diskBenchmarks[h].verdict), `${h}: ${JSON.stringify(outputs.diskBenchmarks[h])}`);
      assert.match(await ssh(h).check("read the drop-in", `cat ${KUBELET_DROP_IN}`), /Managed by ironroot/);
    }
  });

  test("a second preview reports no change at all", async () => {
    const p = await previewJson();
    assert.deepEqual(changes(p), []);
    assert.deepEqual(Object.keys(p.changeSummary), ["same"]);
  });

  test("a hand edit of one node's kubelet file: preview --refresh shows that field on that node only; up reverts it", async () => {
    const host = hosts[1];
    const original = await ssh(host).check("read the drop-in", `cat ${KUBELET_DROP_IN}`);
    await ssh(host).check("hand edit", `sed -i '0,/^  memory: /s/^  memory: .*/  memory: 999Mi/' ${KUBELET_DROP_IN}`);
    const p = await previewJson(["--refresh"]);
    assert.deepEqual(changes(p), [`update ironroot-kubelet-${host}`]);
    assert.deepEqual(changedFields(p.steps.find((s) => s.op === "update")!), ["kubeReserved.memory"]);
    // The text a user reads names the one field, with the hand-edited value and the planned one.
    const text = (await stack!.pulumi(["preview", "--refresh", "--diff"])).stdout;
    assert.match(text, /~ kubeReserved\s*: \{\n\s+cpu\s*: "\d+m"\n\s+~ memory: "999Mi" => "\d+Mi"\n\s+\}/);
    assert.doesNotMatch(text, /~ systemReserved/);
    const r = await stack!.pulumi(["up", "--yes", "--refresh", "--skip-preview"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await ssh(host).check("read the drop-in", `cat ${KUBELET_DROP_IN}`), original);
  });

  test("a kubelet reservation change in the stack config shows per node and per field in preview --diff, before anything changes", async () => {
    const before = await ssh(hosts[0]).check("read the drop-in", `cat ${KUBELET_DROP_IN}`);
    await stack!.pulumi(["config", "set", "--path", "kubelet.policy", "static"]);
    await stack!.pulumi(["config", "set", "--path", "kubelet.static.kubeReserved.cpu", "500m"]);
    await stack!.pulumi(["config", "set", "--path", "kubelet.static.kubeReserved.memory", "500Mi"]);
    await stack!.pulumi(["config", "set", "--path", "kubelet.static.systemReserved.cpu", "250m"]);
    await stack!.pulumi(["config", "set", "--path", "kubelet.static.systemReserved.memory", "250Mi"]);
    try {
      const p = await previewJson();
      assert.deepEqual(changes(p), hosts.map((h) => `update ironroot-kubelet-${h}`).sort());
      for (const s of p.steps.filter((x) => x.op === "update")) {
        assert.deepEqual(changedFields(s), ["kubeReserved.cpu", "kubeReserved.memory", "systemReserved.cpu", "systemReserved.memory"], nameOf(s.urn));
      }
      // Per node and per field, in the text a user reads.
      const text = (await stack!.pulumi(["preview", "--diff"])).stdout;
      for (const h of hosts) {
        const start = text.indexOf(`KubeletConfig::ironroot-kubelet-${h}]`);
        assert.ok(start >= 0, `${h} is not named in the preview`);
        // The block ends where the next resource or the stack's outputs begin.
        const ends = ["[urn=", "--outputs:--"].map((m) => text.indexOf(m, start + 1)).filter((i) => i > 0);
        const block = text.slice(start, ends.length ? Math.min(...ends) : undefined);
        const fields = block.match(/~ (cpu|memory)\s*: "[^"]+" => "(500m|500Mi|250m|250Mi)"/g) ?? [];
        assert.equal(fields.length, 4, `${h}: ${block}`);
      }
      assert.equal(await ssh(hosts[0]).check("read the drop-in", `cat ${KUBELET_DROP_IN}`), before, "preview changed the host");
    } finally {
      await stack!.pulumi(["config", "rm", "kubelet"]);
    }
  });

  // Pulumi starts each provider in a process group of its own, so a
  // terminal's Ctrl-C reaches the CLI only. The first is the engine's
  // cancel: nothing new starts and operations under way finish (the Node.js
  // provider host ignores the engine's Cancel call). The second terminates:
  // the engine sends its providers SIGINT, and ironroot's handler stops what
  // runs on each host, as it does for a Ctrl-C outside Pulumi.
  test("Ctrl-C during up: the first lets the running disk benchmarks go on; the second stops fio on every host; a plain up converges and leaves no benchmark files", async () => {
    await stack!.pulumi(["config", "set", "--path", "diskBenchmark.trigger", `engine-test-${Date.now()}`]);
    const child = stack!.start(["up", "--yes", "--skip-preview"]);
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d));
    child.stderr!.on("data", (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((done) => child.on("close", done));
    const fioOn = async (h: string) => (await ssh(h).run("pgrep -x fio >/dev/null")).code === 0;
    const dataDir = (h: string) => spec!.hosts.find((x) => x.name === h)!.etcdDataDir;
    // The benchmark's work folder lives from its first fio run to its clean-up.
    const benchmarkOn = async (h: string) => (await ssh(h).run(`ls -d ${dataDir(h)}/.ironroot-disk-benchmark.* >/dev/null 2>&1`)).code === 0;
    const deadline = Date.now() + 120_000;
    while (!(await fioOn(hosts[0]))) {
      assert.ok(Date.now() < deadline, `fio never started on ${hosts[0]}:\n${out}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 3000));
    assert.match(out, /\^C received; cancelling/);
    assert.ok(await benchmarkOn(hosts[0]), "the engine's cancel let the benchmark under way go on");
    child.kill("SIGINT");
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const code = await exited;
    clearTimeout(killer);
    assert.notEqual(code, null, `pulumi did not end within 60 s of the second SIGINT:\n${out}`);
    assert.match(out, /\^C received; terminating/);
    assert.match(out, /disk-run updating \(interrupted\)/);
    // fio stops on every host. The benchmark's trap removes its files; when
    // its clean-up is cut off (the host's timeout kills it 5 s after the
    // stop), the next benchmark on that host removes them (checked below).
    for (const h of hosts) {
      let fio = await fioOn(h);
      for (let t = 0; t < 20 && fio; t++) {
        await new Promise((r) => setTimeout(r, 500));
        fio = await fioOn(h);
      }
      assert.equal(fio, false, `${h}: fio outlived the second Ctrl-C by 10 s`);
    }
    // What a user does next: run up again. The engine warns of the
    // interrupted operations and redoes them.
    const again = await stack!.pulumi(["up", "--yes", "--skip-preview"]);
    assert.equal(again.code, 0, `up after the interrupt failed:\n${again.stdout}\n${again.stderr}`);
    assert.match(again.stdout + again.stderr, /pending operations from previous deployment/);
    for (const h of hosts) assert.equal(await benchmarkOn(h), false, `${h}: the interrupted benchmark's files are still there after the next up`);
    assert.deepEqual(changes(await previewJson()), []);
  });

  test("rotating the key: the stack moves to the sshPrivateKey secret and the old key file is gone; refresh --run-program, up and refresh work", async () => {
    await stack!.pulumi(["config", "set", "--secret", "sshPrivateKey"], { input: readFileSync(stack!.labKey, "utf8") });
    await stack!.pulumi(["config", "rm", "--path", "ssh.privateKeyPath"]);
    rmSync(stack!.keyCopy);
    // refresh and destroy configure providers from the last deployment's
    // record unless the program runs: --run-program picks up the new key.
    const r = await stack!.pulumi(["refresh", "--yes", "--run-program"]);
    assert.equal(r.code, 0, `refresh with the rotated key failed:\n${r.stdout}\n${r.stderr}`);
    assert.deepEqual(changes(await previewJson()), []);
    // After an up, the record has the new key source: a plain refresh works too.
    assert.equal((await stack!.pulumi(["up", "--yes", "--skip-preview"])).code, 0);
    const plain = await stack!.pulumi(["refresh", "--yes"]);
    assert.equal(plain.code, 0, `plain refresh after the up failed:\n${plain.stdout}\n${plain.stderr}`);
  });

  test("no private key in the exported state or anything the engine printed", async () => {
    const exported = await stack!.pulumi(["stack", "export"]);
    const keyLines = readFileSync(stack!.labKey, "utf8").split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"));
    assert.ok(keyLines.length > 0);
    for (const [what, text] of [["stack export", exported.stdout], ["engine output", stack!.log]] as const) {
      assert.doesNotMatch(text, /PRIVATE KEY-----/, what);
      for (const l of keyLines) assert.equal(text.includes(l), false, `${what} contains a line of the private key`);
    }
    // Dynamic resources keep no credential of any kind.
    const state = JSON.parse(exported.stdout) as { deployment: { resources: { type: string; inputs?: Record<string, unknown> }[] } };
    for (const r of state.deployment.resources.filter((x) => x.type.startsWith("pulumi-nodejs:dynamic/"))) {
      const { __provider: stored, ...inputs } = r.inputs ?? {};
      assert.doesNotMatch(JSON.stringify(inputs), /privateKey|agent/, r.type);
      for (const dir of [REPO, origin.dir]) assert.equal(String(stored).includes(dir), false, `${r.type}: the stored provider names ${dir}`);
    }
  });

  test("the clone that made the state is deleted; refresh and destroy from another one work: the kubelet files go and the state is empty", async () => {
    const clone = secondClone();
    try {
      const file = `Pulumi.${NAME}.yaml`;
      // In real use the stack file is committed and comes with the clone.
      copyFileSync(join(origin.dir, "stacks", file), join(clone.dir, "stacks", file));
      origin.remove();
      const refreshed = await stack!.pulumi(["refresh", "--yes"], { cwd: clone.dir });
      assert.equal(refreshed.code, 0, `refresh from the second clone failed:\n${refreshed.stdout}\n${refreshed.stderr}`);
      const destroyed = await stack!.pulumi(["destroy", "--yes", "--skip-preview"], { cwd: clone.dir });
      assert.equal(destroyed.code, 0, `destroy from the second clone failed:\n${destroyed.stdout}\n${destroyed.stderr}`);
      for (const h of hosts) {
        assert.equal((await ssh(h).run(`test -e ${KUBELET_DROP_IN}`)).code, 1, `${h}: the kubelet drop-in is still there`);
      }
      const left = JSON.parse((await stack!.pulumi(["stack", "export"], { cwd: clone.dir })).stdout) as { deployment: { resources?: unknown[] } };
      assert.deepEqual(left.deployment.resources ?? [], []);
    } finally {
      clone.remove();
    }
  });
});
