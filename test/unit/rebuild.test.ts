import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import YAML from "yaml";
import { loadStackFile } from "../../components/config/load";
import { rebuild, RebuildError } from "../../components/config/rebuild";

const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILm19oHNvtVfJ5h7e5oTvdp/OfDgP/9tsZgNPxt1CoqE";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII0YoMFknvSwp1YhOYTWEMp2u4d629TZXVhlQsjRCXSW";
// Opaque ciphertexts as Pulumi writes them; the rebuild must not touch a byte.
const SALT = "v1:Zm9vYmFyYmF6cXV4:v1:3Gk2ZXhbq3bRtqqr:Xb9lZ0d2m5fJ1rGXfDQ3oQ==";
const DEPLOY = "v1:q0pPAbcDEF1234==:mZ3uQ0pCk8wq7P4W2T+/rV9Q0sdlKj3Lx1mN2bV5cX7zY8aQ";
const SEALING = "v1:7yH2kLmNpQrStUvW:Ab+/Cd3eFg4HiJ5kLm6NoP7qRs8TuV9wXy0Z1a2B3c4D5e6F7g8H9i0J";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ironroot-rebuild-"));
  writeFileSync(join(dir, "id_ed25519"), "not a real key, only its presence is checked\n");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function oldStack(opts: { deployKey?: boolean; sealingKey?: boolean; salt?: boolean } = {}): string {
  const { deployKey = true, sealingKey = true, salt = true } = opts;
  const lines = [
    ...(salt ? [`encryptionsalt: ${SALT}`] : []),
    "config:",
    "  # how ironroot reaches the hosts",
    "  ironroot:ssh:",
    `    privateKeyPath: ${join(dir, "id_ed25519")}`,
    "  ironroot:hosts:",
    "    - name: cp-1",
    "      address: 10.77.8.11",
    `      hostKey: ${KEY_A}`,
    "      roles: [control-plane]",
    "  ironroot:cluster:",
    "    name: prod",
    "  ironroot:gitops:",
    "    repoUrl: git@git.example.net:org/cluster.git",
    "    knownHosts: |",
    `      git.example.net ${KEY_A}`,
    ...(deployKey ? ["  ironroot:deployKey:", `    secure: ${DEPLOY}`] : []),
    ...(sealingKey ? ["  ironroot:sealingKey:", `    secure: ${SEALING}`] : []),
    "",
  ];
  const text = lines.join("\n");
  writeFileSync(join(dir, "Pulumi.prod.yaml"), text);
  return text;
}

function newHosts(): string {
  const path = join(dir, "hosts.yaml");
  writeFileSync(path, YAML.stringify([{ name: "cp-1", address: "10.77.9.11", hostKey: KEY_B, roles: ["control-plane"] }]));
  return path;
}

function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof RebuildError, `expected RebuildError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail("the rebuild went ahead");
}

const run = (extra: Partial<Parameters<typeof rebuild>[0]> = {}) =>
  rebuild({ from: "prod", to: "prod-dr", hostsFile: newHosts(), stacksDir: dir, ...extra });

test("a good rebuild: new hosts, the same secrets byte for byte, a valid stack", () => {
  const before = oldStack();
  const r = run();
  assert.equal(r.path, join(dir, "Pulumi.prod-dr.yaml"));
  const after = readFileSync(r.path, "utf8");
  for (const line of before.split("\n").filter((l) => /secure:|encryptionsalt:/.test(l))) {
    assert.ok(after.split("\n").includes(line), `line not carried over unchanged: ${line}`);
  }
  const spec = loadStackFile(dir, "prod-dr");
  assert.deepEqual(spec.hosts.map((h) => [h.name, h.address, h.hostKey]), [["cp-1", "10.77.9.11", KEY_B]]);
  assert.deepEqual(spec.secrets, { deployKey: { secret: "deployKey" }, sealingKey: { secret: "sealingKey" } });
  // Everything but the hosts is the old stack, comments included.
  const o = YAML.parse(before);
  const n = YAML.parse(after);
  delete o.config["ironroot:hosts"];
  delete n.config["ironroot:hosts"];
  assert.deepEqual(n, o);
  assert.match(after, /# how ironroot reaches the hosts/);
  assert.deepEqual(r.commands.slice(-2), ["pulumi preview --diff -s prod-dr", "pulumi up -s prod-dr"]);
  assert.ok(r.commands.includes("pulumi stack init prod-dr --secrets-provider='passphrase'"));
});

test("a missing deploy key fails before anything is written, naming it", () => {
  oldStack({ deployKey: false });
  const problems = problemsOf(run);
  assert.deepEqual(problems, [
    `deployKey: gitops.repoUrl "git@git.example.net:org/cluster.git" is an SSH URL and needs a deploy key: run \`pulumi config set --secret deployKey < deploy_key\``,
  ]);
  assert.equal(existsSync(join(dir, "Pulumi.prod-dr.yaml")), false);
});

test("a missing sealing key fails, naming it and how to copy it from the old stack", () => {
  oldStack({ sealingKey: false });
  const problems = problemsOf(run);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^sealingKey: missing: without the old cluster's sealed-secrets key every SealedSecret in git stays undecryptable/);
  assert.ok(problems[0].includes("`pulumi stack output sealingKey --show-secrets -s prod | pulumi config set --secret sealingKey -s prod`"));
  assert.equal(existsSync(join(dir, "Pulumi.prod-dr.yaml")), false);
});

test("every missing piece is named in one run", () => {
  oldStack({ deployKey: false, sealingKey: false });
  rmSync(join(dir, "id_ed25519"));
  const problems = problemsOf(run);
  assert.deepEqual(problems.map((p) => p.split(":")[0]), ["deployKey", "sealingKey", "ssh.privateKeyPath"]);
});

test("secrets held by the Pulumi Cloud service cannot be copied as text", () => {
  oldStack({ salt: false });
  const [p] = problemsOf(run);
  assert.match(p, /^secretsprovider: stack "prod" has encrypted values but no encryptionsalt or encryptedkey/);
  assert.ok(p.includes("pulumi stack init prod-dr --copy-config-from prod"));
});

test("an existing new stack file is not replaced without --force", () => {
  oldStack();
  writeFileSync(join(dir, "Pulumi.prod-dr.yaml"), "config: {}\n");
  assert.match(problemsOf(run)[0], /^--to: .*Pulumi\.prod-dr\.yaml already exists/);
  run({ force: true });
  assert.equal(loadStackFile(dir, "prod-dr").hosts[0].address, "10.77.9.11");
});

test("the hosts can come from another stack file, e.g. the one `scripts/lab up` writes", () => {
  oldStack();
  const lab = join(dir, "Pulumi.lab-new.yaml");
  writeFileSync(lab, YAML.stringify({ config: { "ironroot:hosts": [{ name: "cp-1", address: "10.77.9.11", hostKey: KEY_B, roles: ["control-plane"] }] } }));
  run({ hostsFile: lab });
  assert.equal(loadStackFile(dir, "prod-dr").hosts[0].address, "10.77.9.11");
});

test("bad new hosts are reported with their config path", () => {
  oldStack();
  const path = join(dir, "hosts.yaml");
  const r = () => rebuild({ from: "prod", to: "prod-dr", hostsFile: path, stacksDir: dir });
  writeFileSync(path, YAML.stringify([{ name: "cp-1", address: "10.77.9.11", roles: ["control-plane"] }]));
  assert.deepEqual(problemsOf(r), ["hosts[0].hostKey: is required"]);
});

const cli = (args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", resolve(__dirname, "../../scripts/rebuild.ts"), ...args], { encoding: "utf8" });

test("CLI: a missing secret exits 1 and names it on stderr", () => {
  oldStack({ sealingKey: false });
  const r = cli(["--from", "prod", "--to", "prod-dr", "--hosts", newHosts(), "--stacks-dir", dir]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^rebuild: the rebuild cannot go ahead; nothing was written and no host was contacted:\n {2}- sealingKey: missing/);
  assert.equal(r.stdout, "");
});

test("CLI: a good rebuild prints the new hosts and the commands to run", () => {
  oldStack();
  const r = cli(["--from", "prod", "--to", "prod-dr", "--hosts", newHosts(), "--stacks-dir", dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ {2}cp-1 {2}10\.77\.9\.11:22 {2}control-plane$/m);
  assert.match(r.stdout, /^ {2}pulumi preview --diff -s prod-dr$/m);
  assert.match(r.stdout, /^ {2}pulumi up -s prod-dr$/m);
  assert.ok(!r.stdout.includes(DEPLOY) && !r.stdout.includes(SEALING), "ciphertext printed");
});

test("CLI: missing options are named", () => {
  const r = cli(["--from", "prod"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--to: required\n {2}- --hosts: required/);
});

const KEY_C = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2Gap9S3krebMQ6RC5StRGzGx6BZHbHMor6StgSYAAW";

test("a new host list with fewer control planes is refused; dropped labels and old addresses are reported", () => {
  oldStack();
  const file = join(dir, "Pulumi.prod.yaml");
  // The old cluster: one control plane and a labelled worker.
  writeFileSync(file, readFileSync(file, "utf8").replace("  ironroot:cluster:", [
    "    - name: w-1",
    "      address: 10.77.8.21",
    `      hostKey: ${KEY_B}`,
    "      roles: [worker]",
    "      labels:",
    "        node.example.com/pool: big",
    "  ironroot:cluster:",
  ].join("\n")));
  const hosts = join(dir, "hosts.yaml");
  writeFileSync(hosts, YAML.stringify([{ name: "w-9", address: "10.77.8.21", hostKey: KEY_C, roles: ["worker"] }]));
  assert.deepEqual(problemsOf(() => rebuild({ from: "prod", to: "prod-dr", hostsFile: hosts, stacksDir: dir })), [
    "--hosts: 0 control plane(s) in the new list, 1 in the old stack: a rebuild brings back the same cluster (etcd quorum and Argo CD's HA were planned for 1): give 1 of the new hosts roles: [control-plane]",
    "hosts: no host has the control-plane role: give at least one host `roles: [control-plane]` (1 for a test cluster, 3 or 5 for HA)",
  ]);
  writeFileSync(hosts, YAML.stringify([
    { name: "cp-9", address: "10.77.9.11", hostKey: KEY_A, roles: ["control-plane"] },
    { name: "w-9", address: "10.77.8.21", hostKey: KEY_C, roles: ["worker"] },
  ]));
  const r = rebuild({ from: "prod", to: "prod-dr", hostsFile: hosts, stacksDir: dir });
  assert.deepEqual(r.notes, [
    "label node.example.com/pool=big was on an old host and is on no new host: workloads that select it will not be scheduled until a host has it",
    "w-9 has the address 10.77.8.21 of the old host w-1: fine if the provider gave it back; otherwise the host list is stale",
  ]);
});

test("CLI: --help prints the usage and exits 0", () => {
  const r = cli(["--help"]);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^usage: npx tsx scripts\/rebuild\.ts --from <stack> --to <new-stack> --hosts <file>/);
});
