// What ironroot's dynamic resources keep in state as their provider, run the
// way the engine's dynamic-provider process runs it: the serialized text in
// plain node (no TypeScript loader), from a second clone in another
// directory, configured with a stack config and nothing else.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { storedProvider, type ProviderKind } from "../../components/pulumi/hostResource";
import { REPO, secondClone } from "../support/secondClone";

const KINDS: ProviderKind[] = ["HostPrep", "DiskBenchmarkRun", "KubeletConfig", "OfflineBundle", "SealingKey"];

async function stored(kind: ProviderKind): Promise<string> {
  // The same call pulumi.dynamic.Resource makes.
  const provider = storedProvider(kind);
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
}

const clone = secondClone();
const outside = mkdtempSync(join(tmpdir(), "ironroot-outside-"));
after(() => {
  clone.remove();
  rmSync(outside, { recursive: true, force: true });
});

/** In a plain node process with `cwd`: configure the stored provider with `config`, call `method`, report the result and which ironroot files ran. */
function run(cwd: string, text: string, config: Record<string, string>, method: string, args: unknown[]) {
  const file = join(cwd, ".stored-provider.js");
  writeFileSync(file, text);
  const script = `
    const p = require(${JSON.stringify(file)}).handler();
    const config = ${JSON.stringify(config)};
    (async () => {
      await p.configure({ config: { get: (k) => config[k], require: (k) => config[k] } });
      return p[${JSON.stringify(method)}](...${JSON.stringify(args)});
    })().then((r) => ({ result: r }), (e) => ({ error: e.message })).then((out) => {
      out.loaded = Object.keys(require.cache).filter((f) => f.includes("/components/"));
      process.stdout.write(JSON.stringify(out));
    });`;
  try {
    const out = execFileSync(process.execPath, ["-e", script], { cwd, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" }, timeout: 120_000 });
    return JSON.parse(out) as { result?: any; error?: string; loaded: string[] };
  } finally {
    rmSync(file, { force: true });
  }
}

const target = {
  name: "probe", address: "127.0.0.1", port: 1, user: "root", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILm19oHNvtVfJ5h7e5oTvdp/OfDgP/9tsZgNPxt1CoqE",
  connectTimeoutSeconds: 1, connectRetries: 0, commandTimeoutSeconds: 5,
};
const prep = { node: "probe", target, steps: [{ id: "prep/x", title: "x", probe: "true", apply: "true" }] };

test("the stored provider of every kind names only its kind: no path of this checkout, no module, no credential", async () => {
  for (const kind of KINDS) {
    const text = await stored(kind);
    assert.equal(text.includes(REPO), false, `${kind}: the stored provider contains ${REPO}`);
    assert.doesNotMatch(text, /node_modules|\/[\w.-]+\.ts"|PRIVATE KEY|NodeSSH|ssh2/, kind);
    assert.match(text, new RegExp(`"${kind}"`), kind);
    assert.equal(await stored(kind), text, `${kind}: serializing twice gives the same text`);
  }
});

test("from a second clone, in plain node, the provider runs that clone's code with the key source its stack config names now", async () => {
  const text = await stored("HostPrep");
  const config = { "ironroot:ssh": JSON.stringify({ privateKeyPath: "/nonexistent/rotated_key" }) };
  const r = run(clone.dir, text, config, "create", [prep]);
  // The key file named by the config at call time is what the transport tried to read.
  assert.match(r.error ?? "", /\/nonexistent\/rotated_key: ENOENT: fix ssh\.privateKeyPath in the stack config/);
  assert.ok(r.loaded.length > 0, "no ironroot module was loaded");
  const cloneDir = realpathSync(clone.dir);
  assert.deepEqual(r.loaded.filter((f) => !f.startsWith(cloneDir) && !f.startsWith(clone.dir)), [], "every ironroot module came from the second clone");
});

test("a rotated key in the stack's secret is the one used: the provider reads it from config at call time", async () => {
  const text = await stored("HostPrep");
  const r = run(clone.dir, text, { "ironroot:sshPrivateKey": "not a key", "ironroot:ssh": "{}" }, "create", [prep]);
  assert.match(r.error ?? "", /^probe \(127\.0\.0\.1:1\): connecting: Cannot parse privateKey/, "the key from the stack config (rotated to something unreadable) was the one tried");
});

test("a stored provider run outside any ironroot checkout says so", async () => {
  const r = run(outside, await stored("DiskBenchmarkRun"), {}, "diff", ["id", {}, {}]);
  assert.match(r.error ?? "", /^ironroot: the DiskBenchmarkRun provider runs in .* which is not inside an ironroot checkout: run pulumi from the project folder$/);
});

test("a delete that cannot reach its host succeeds (a host that is gone must not block up)", async () => {
  const config = { "ironroot:ssh": JSON.stringify({ agent: true }) };
  const state = { node: "probe", path: "/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf", target, unmanaged: [], drainTimeoutSeconds: 1, readyTimeoutSeconds: 1 };
  const r = run(clone.dir, await stored("KubeletConfig"), config, "delete", ["probe:/x", state]);
  assert.equal(r.error, undefined);
});

test("SealingKey runs from the second clone and generates a matching pair", async () => {
  const r = run(clone.dir, await stored("SealingKey"), {}, "create", [{ commonName: "sealed-secrets", validityDays: 1, keyBits: 2048 }]);
  assert.equal(r.error, undefined);
  assert.match(r.result.outs.certificatePem, /BEGIN CERTIFICATE/);
  assert.match(r.result.id, /^[0-9a-f]{64}$/);
});
