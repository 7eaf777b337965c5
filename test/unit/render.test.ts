import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { loadStackFile } from "../../components/config/load";
import { buildPlan } from "../../components/plan";
import { renderPlan } from "../../components/render/render";
import { runSteps } from "../../components/host/runSteps";
import type { HostSession } from "../../components/ssh/types";
import { assertGoldenTree, goldenRole, onePerRole } from "../support/golden";

const ROOT = resolve(__dirname, "../..");
const STACKS = join(ROOT, "stacks");

function renderCli(stacksDir: string, stack: string, out: string): void {
  execFileSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/render.ts"), "--stack", stack, "--out", out, "--stacks-dir", stacksDir], {
    cwd: ROOT,
    stdio: "pipe",
  });
}

function readTree(dir: string, prefix = ""): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) for (const [k, v] of readTree(path, `${prefix}${name}/`)) out.set(k, v);
    else out.set(`${prefix}${name}`, readFileSync(path));
  }
  return out;
}

test("the example stack renders to the golden files", () => {
  const plan = buildPlan(loadStackFile(STACKS, "example"));
  const roles = plan.cluster.kubeadm.nodes.map((n) => ({ name: n.name, role: goldenRole(n) }));
  assertGoldenTree("render/example", onePerRole(renderPlan(plan), roles));
});

test("render writes the same bytes twice", () => {
  const a = mkdtempSync(join(tmpdir(), "ironroot-render-"));
  const b = mkdtempSync(join(tmpdir(), "ironroot-render-"));
  renderCli(STACKS, "example", a);
  renderCli(STACKS, "example", b);
  renderCli(STACKS, "example", b); // over an existing output folder
  const ta = readTree(a);
  const tb = readTree(b);
  assert.ok(ta.size > 5);
  assert.deepEqual([...ta.keys()], [...tb.keys()]);
  for (const [k, v] of ta) assert.ok(v.equals(tb.get(k)!), `${k} differs between two renders`);
});

test("render output contains no secret value, only named placeholders", () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-secrets-"));
  const marker = "v1:SECRETMARKER0123456789";
  const stack = readFileSync(join(STACKS, "Pulumi.example.yaml"), "utf8").replace(
    /secure: v1:\S+/,
    `secure: ${marker}`,
  ) + `  ironroot:sealingKey:\n    secure: ${marker}-sealing\n`;
  writeFileSync(join(dir, "Pulumi.s.yaml"), stack);
  const out = join(dir, "out");
  renderCli(dir, "s", out);
  const all = [...readTree(out).values()].map((b) => b.toString("utf8")).join("\n");
  assert.ok(!all.includes("SECRETMARKER"), "a secret value reached the rendered files");
});

test("render refuses a bad config with the problems and a non-zero exit", () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-bad-"));
  writeFileSync(join(dir, "Pulumi.bad.yaml"), "config:\n  ironroot:hosts: []\n");
  assert.throws(() => renderCli(dir, "bad", join(dir, "out")), (e: { status: number; stderr: Buffer }) => {
    assert.equal(e.status, 1);
    assert.match(e.stderr.toString(), /stack "bad": 3 problems in the stack config:\n/);
    assert.match(e.stderr.toString(), /\n {2}- hosts: needs at least one host\n/);
    assert.match(e.stderr.toString(), /\n {2}- gitops: is required: set gitops.repoUrl/);
    return true;
  });
});

function renderCliResult(out: string) {
  return spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/render.ts"), "--stack", "example", "--out", out, "--stacks-dir", STACKS], {
    cwd: ROOT,
    encoding: "utf8",
  });
}

test("render never deletes a folder it did not make: a non-empty folder without its marker is refused and left whole", () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-not-render-"));
  writeFileSync(join(dir, "precious.txt"), "keep me");
  mkdirSync(join(dir, ".git"));
  const r = renderCliResult(dir);
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr.trim(),
    `--out ${dir}: the folder is not empty and was not made by render (no .ironroot-render in it), so render will not replace it: name a new folder, e.g. out/<stack>`,
  );
  assert.deepEqual(readdirSync(dir).sort(), [".git", "precious.txt"]);
  assert.equal(readFileSync(join(dir, "precious.txt"), "utf8"), "keep me");
  // The repository itself, as `--out .` from its root would name it.
  const repo = renderCliResult(ROOT);
  assert.equal(repo.status, 1);
  assert.ok(statSync(join(ROOT, "package.json")).isFile());
  // A file in the way is refused too.
  const file = join(dir, "precious.txt");
  assert.match(renderCliResult(file).stderr, /is a file, not a folder/);
});

test("render replaces a folder it made itself, and writes into an empty or new one", () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-render-"));
  assert.equal(renderCliResult(dir).status, 0, "an empty folder");
  writeFileSync(join(dir, "stale.txt"), "from an older render");
  assert.equal(renderCliResult(dir).status, 0, "a folder render made");
  assert.equal(existsSync(join(dir, "stale.txt")), false, "stale files go");
  assert.ok(existsSync(join(dir, ".ironroot-render")));
  assert.equal(renderCliResult(join(dir, "new", "folder")).status, 0, "a new folder");
});

test("what runSteps sends to a host is, byte for byte, the step file render writes", async () => {
  const plan = buildPlan(loadStackFile(STACKS, "example"));
  const files = renderPlan(plan);
  const pathsOf = (content: string) => [...files].filter(([, c]) => c === content).map(([path]) => path);
  const sent: { command: string; stdin?: string }[] = [];
  // A host where every probe fails until its step is applied: both modes run.
  const applied = new Set<string>();
  const host: HostSession = {
    target: { name: "fake", address: "192.0.2.1", port: 22, user: "root", hostKey: "", connectTimeoutSeconds: 1, connectRetries: 0, commandTimeoutSeconds: 1 },
    async run(command, opts = {}) {
      sent.push({ command, stdin: opts.stdin });
      const id = /^# step: (.+)$/m.exec(opts.stdin ?? "")?.[1] ?? "";
      if (command.endsWith(" apply")) applied.add(id);
      return { code: command.endsWith(" probe") && !applied.has(id) ? 1 : 0, stdout: "", stderr: "" };
    },
    check: () => Promise.reject(new Error("not used")),
    putFile: () => Promise.reject(new Error("not used")),
    upload: () => Promise.reject(new Error("not used")),
  };
  const node = plan.nodes.find((n) => n.etcdSnapshot.length > 0)!;
  const steps = [...node.prep, ...node.etcdSnapshot];
  await runSteps(host, steps, { virt: "kvm" });
  assert.equal(sent.length, steps.length * 3, "each step probed, applied, probed again");
  for (const { command, stdin } of sent) {
    assert.match(command, /^bash -s -- (probe|apply)$/);
    assert.ok(pathsOf(stdin ?? "").some((p) => p.startsWith(`nodes/${node.name}/`)), `sent a script that render does not write for ${node.name}:\n${stdin}`);
  }
});
