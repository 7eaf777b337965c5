// Render's kubelet files and the --facts input that feeds them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import YAML from "yaml";
import { loadStackFile } from "../../components/config/load";
import { buildPlan } from "../../components/plan";
import { renderPlan } from "../../components/render/render";
import { readNodeSizes } from "../../components/render/kubelet";

const spec = () => loadStackFile(resolve(__dirname, "../../stacks"), "example");

const ROOT = resolve(__dirname, "../..");

test("with facts for one node, that node gets its drop-in file and an explanation with the tiers; the others say why they have none", () => {
  const files = renderPlan(buildPlan(spec(), { nodeSizes: { "worker-1": { cpus: 8, memoryBytes: 32 * 1024 ** 3 } } }));
  const conf = files.get("nodes/worker-1/kubelet/50-ironroot-reservations.conf");
  assert.ok(conf);
  assert.match(conf, /^ {2}memory: "1823Mi"$/m); // 3645.44 -> 3646Mi, half rounded up
  const explained = YAML.parse(files.get("nodes/worker-1/kubelet/explanation.yaml")!);
  assert.deepEqual(explained.total, { cpu: "90m", memory: "3646Mi" });
  assert.equal(explained.tiers.memory.length, 4);
  assert.equal(files.has("nodes/worker-2/kubelet/50-ironroot-reservations.conf"), false);
  assert.match(YAML.parse(files.get("nodes/worker-2/kubelet/explanation.yaml")!).check, /^not computed/);
});

test("--facts reads <host>.json (host facts or just cpus/memoryBytes) and names the file and field of a bad one", () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-facts-"));
  writeFileSync(join(dir, "cp-1.json"), JSON.stringify({ cpus: 4, memoryBytes: 8 * 1024 ** 3, os: { id: "debian" } }));
  assert.deepEqual(readNodeSizes(dir, ["cp-1", "cp-2"]), { "cp-1": { cpus: 4, memoryBytes: 8 * 1024 ** 3 } });
  writeFileSync(join(dir, "cp-2.json"), JSON.stringify({ cpus: 4, memoryBytes: "8G" }));
  assert.throws(() => readNodeSizes(dir, ["cp-1", "cp-2"]), new RegExp(`^Error: ${join(dir, "cp-2.json")}: memoryBytes: expected a positive whole number of bytes, got "8G"`));
  assert.throws(() => readNodeSizes(join(dir, "nope"), ["cp-1"]), /--facts .*nope: no such directory/);
});

test("--facts: every problem at once, a file for a host the stack lacks and an empty folder too; render prints them with no stack trace", () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-facts-"));
  writeFileSync(join(dir, "cp-1.json"), JSON.stringify({ cpus: 0, memoryBytes: 1 }));
  writeFileSync(join(dir, "cp-2.json"), "{not json");
  writeFileSync(join(dir, "cp-9.json"), JSON.stringify({ cpus: 2, memoryBytes: 1 }));
  const expected = [
    `3 problems in --facts ${dir}:`,
    `  - ${join(dir, "cp-9.json")}: no host named "cp-9" in the stack: name the file after one of cp-1, cp-2, cp-3, worker-1, worker-2, or remove it`,
    `  - ${join(dir, "cp-1.json")}: cpus: expected a positive number of CPUs, got 0: write e.g. {"cpus": 4, "memoryBytes": 8589934592}`,
  ];
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/render.ts"), "--stack", "example", "--facts", dir, "--out", mkdtempSync(join(tmpdir(), "ironroot-out-"))], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split("\n");
  assert.deepEqual(lines.slice(0, 3), expected);
  assert.match(lines[3], new RegExp(`^  - ${join(dir, "cp-2.json")}: not valid JSON: `));
  assert.equal(lines.length, 4, "no stack trace");
  const empty = mkdtempSync(join(tmpdir(), "ironroot-facts-"));
  assert.throws(() => readNodeSizes(empty, ["cp-1"]), /--facts .*: no <host>\.json in it: write one <host>\.json per host/);
});

test("render lists the stack config's problems and the facts folder's in one run (a version and a facts mistake together)", () => {
  const stacks = mkdtempSync(join(tmpdir(), "ironroot-stacks-"));
  const text = readFileSync(join(ROOT, "stacks/Pulumi.example.yaml"), "utf8").replace(/kubernetesVersion: [\d.]+/, "kubernetesVersion: 1.99.1");
  writeFileSync(join(stacks, "Pulumi.example.yaml"), text);
  const facts = mkdtempSync(join(tmpdir(), "ironroot-facts-"));
  writeFileSync(join(facts, "cp-1.json"), JSON.stringify({ cpus: 0, memoryBytes: 1 }));
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/render.ts"), "--stack", "example", "--stacks-dir", stacks, "--facts", facts, "--out", mkdtempSync(join(tmpdir(), "ironroot-out-"))], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cluster\.kubernetesVersion: 1\.99\.1: Kubernetes 1\.99 is not supported by ironroot/);
  assert.match(r.stderr, new RegExp(`${join(facts, "cp-1.json").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: cpus: expected a positive number of CPUs, got 0`));
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
});
