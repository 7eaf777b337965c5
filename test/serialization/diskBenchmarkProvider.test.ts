import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { DiskBenchmarkProvider, RERUN_KEYS, type DiskBenchmarkInputs } from "../../components/pulumi/DiskBenchmarkProvider";

// The way pulumi.dynamic.Resource serializes its provider.
async function serialized(): Promise<string> {
  const provider = new DiskBenchmarkProvider();
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  return sf.text;
}

const inputs: DiskBenchmarkInputs = {
  connection: {
    name: "cp-1", address: "203.0.113.11", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA",
    connectTimeoutSeconds: 10, connectRetries: 3, commandTimeoutSeconds: 900,
  },
  plan: {
    node: "cp-1", configPath: "hosts[0]", isControlPlane: true, etcdDataDir: "/var/lib/etcd", warnP99Ms: 10, failP99Ms: 20,
    runs: 3, allowSlowDisk: false, minFreeMb: 1024, randomIops: true, randomRuntimeSeconds: 5, trigger: "", script: "#!/usr/bin/env bash\n",
  },
};

test("the provider serializes, captures no secret, and loads its modules by absolute path", async () => {
  const text = await serialized();
  assert.doesNotMatch(text, /PRIVATE KEY/);
  assert.match(text, /"\/[^"]*\/components\/ssh\/executor\.ts"/);
  assert.match(text, /"\/[^"]*\/components\/ssh\/runDiskBenchmark\.ts"/);
});

test("the serialized provider runs from another directory: diff re-runs only on the settings that matter", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-serialized-"));
  try {
    const file = join(dir, "provider.js");
    writeFileSync(file, await serialized());
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const provider = (require(file) as { handler: () => DiskBenchmarkProvider }).handler();
    const olds = { settings: (await import("../../components/pulumi/DiskBenchmarkProvider")).rerunSettings(inputs), result: {} as never };

    assert.equal((await provider.diff("id", olds, inputs)).changes, false, "a plain `up` must not re-run the benchmark");
    const unchanged: [string, DiskBenchmarkInputs][] = [
      ["port", { ...inputs, connection: { ...inputs.connection, port: 2222 } }],
      ["user", { ...inputs, connection: { ...inputs.connection, user: "ironroot" } }],
      ["private key", { ...inputs, privateKey: "other key" }],
      ["script text", { ...inputs, plan: { ...inputs.plan, script: "#!/usr/bin/env bash\n# newer ironroot\n" } }],
    ];
    for (const [what, news] of unchanged) {
      assert.equal((await provider.diff("id", olds, news)).changes, false, `${what} changed the benchmark`);
    }
    const changed: [string, DiskBenchmarkInputs][] = [
      ["address", { ...inputs, connection: { ...inputs.connection, address: "203.0.113.99" } }],
      ["hostKey", { ...inputs, connection: { ...inputs.connection, hostKey: "ssh-ed25519 BBBB" } }],
      ["etcdDataDir", { ...inputs, plan: { ...inputs.plan, etcdDataDir: "/mnt/nvme/etcd" } }],
      ["failP99Ms", { ...inputs, plan: { ...inputs.plan, failP99Ms: 15 } }],
      ["warnP99Ms", { ...inputs, plan: { ...inputs.plan, warnP99Ms: 5 } }],
      ["runs", { ...inputs, plan: { ...inputs.plan, runs: 5 } }],
      ["trigger", { ...inputs, plan: { ...inputs.plan, trigger: "again" } }],
      ["allowSlowDisk", { ...inputs, plan: { ...inputs.plan, allowSlowDisk: true } }],
    ];
    for (const [what, news] of changed) {
      const d = await provider.diff("id", olds, news);
      assert.equal(d.changes, true, `${what} did not re-run the benchmark`);
      assert.deepEqual(d.replaces, []);
    }
    assert.ok(RERUN_KEYS.length >= changed.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("in plain node (no TypeScript loader, as in the engine's provider process) create loads its modules and reaches the executor", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-serialized-"));
  try {
    writeFileSync(join(dir, "provider.js"), await serialized());
    // Port 1 on loopback refuses at once: the error proves executor and runDiskBenchmark were loaded and ran.
    const probe = `
      const p = require("./provider.js").handler();
      p.create(${JSON.stringify({ ...inputs, connection: { ...inputs.connection, address: "127.0.0.1", port: 1, privateKeyPath: "/dev/null", connectTimeoutSeconds: 2, connectRetries: 0 } })})
        .then(() => console.log("created"), (e) => console.log(e.message));`;
    const out = execFileSync(process.execPath, ["-e", probe], {
      cwd: dir,
      encoding: "utf8",
      // The engine's provider process resolves @pulumi/pulumi from the project's node_modules.
      env: { ...process.env, NODE_OPTIONS: "", NODE_PATH: join(__dirname, "../../node_modules") },
      timeout: 60_000,
    });
    assert.match(out.trim(), /^cp-1 \(127\.0\.0\.1:1\): /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
