// The OfflineBundle provider is stored in the Pulumi state as source text and
// run by the engine's dynamic-provider host: it must serialize, carry no
// captured SSH connection or secret, and find its modules from elsewhere.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { OfflineBundleProvider, type OfflineBundleState } from "../../components/pulumi/OfflineBundleProvider";

// The way pulumi.dynamic.Resource serializes its provider.
async function serialized(): Promise<{ text: string; containsSecrets: boolean }> {
  const provider = new OfflineBundleProvider();
  return pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

const state: OfflineBundleState = {
  node: "cp-1",
  target: {
    name: "cp-1", address: "203.0.113.11", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA",
    connectTimeoutSeconds: 10, connectRetries: 3, commandTimeoutSeconds: 900,
  },
  bundleDir: "/srv/bundle",
  kubernetesVersion: "1.34.2",
  files: [
    { path: "debs/kubeadm.deb", sha256: sha("a"), kind: "deb" },
    { path: "images/pause.tar", sha256: sha("b"), kind: "image" },
  ],
};

test("the provider serializes, captures no secret, and loads its modules by absolute path", async () => {
  const sf = await serialized();
  assert.equal(sf.containsSecrets, false);
  assert.doesNotMatch(sf.text, /PRIVATE KEY|NodeSSH|ssh2/);
  assert.match(sf.text, /"\/[^"]*\/components\/ssh\/executor\.ts"/);
  assert.match(sf.text, /"\/[^"]*\/components\/ssh\/offlineBundle\.ts"/);
  for (const method of ["diff", "create", "update", "read", "delete"]) {
    assert.match(sf.text, new RegExp(`\\b${method}\\b`), `method ${method} missing from the serialized provider`);
  }
});

test("the serialized provider runs from another directory: diff on the manifest and the target only", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-serialized-"));
  try {
    writeFileSync(join(dir, "provider.js"), (await serialized()).text);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const provider = (require(join(dir, "provider.js")) as { handler: () => OfflineBundleProvider }).handler();
    const olds = { ...state, sent: ["debs/kubeadm.deb", "images/pause.tar"] };

    const same: [string, OfflineBundleState][] = [
      ["nothing", state],
      ["files reordered", { ...state, files: [...state.files].reverse() }],
      ["private key", { ...state, privateKey: "other key" }],
      ["bundle folder moved", { ...state, bundleDir: "/mnt/usb/bundle" }],
      ["connect timeout", { ...state, target: { ...state.target, connectTimeoutSeconds: 30 } }],
    ];
    for (const [what, news] of same) assert.equal((await provider.diff("id", olds, news)).changes, false, `${what} would upload again`);

    const changed: [string, OfflineBundleState][] = [
      ["a file's sha256", { ...state, files: [state.files[0], { ...state.files[1], sha256: sha("c") }] }],
      ["a file added", { ...state, files: [...state.files, { path: "bin/crictl", sha256: sha("d"), kind: "binary" }] }],
      ["a file removed", { ...state, files: [state.files[0]] }],
      ["version", { ...state, kubernetesVersion: "1.34.3" }],
      ["address", { ...state, target: { ...state.target, address: "203.0.113.99" } }],
      ["port", { ...state, target: { ...state.target, port: 2222 } }],
      ["user", { ...state, target: { ...state.target, user: "ironroot" } }],
      ["hostKey", { ...state, target: { ...state.target, hostKey: "ssh-ed25519 BBBB" } }],
    ];
    for (const [what, news] of changed) {
      const d = await provider.diff("id", olds, news);
      assert.equal(d.changes, true, `${what} did not upload again`);
      assert.deepEqual(d.replaces, [], `${what}: an update, not a replace`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("in plain node (no TypeScript loader, as in the engine's provider process) create checks the local bundle and reaches the executor", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-serialized-"));
  try {
    writeFileSync(join(dir, "provider.js"), (await serialized()).text);
    const bundleDir = join(dir, "bundle");
    mkdirSync(join(bundleDir, "images"), { recursive: true });
    writeFileSync(join(bundleDir, "images/pause.tar"), "b");
    const files = [{ path: "images/pause.tar", sha256: sha("b"), kind: "image" }];
    writeFileSync(join(bundleDir, "bundle.json"), JSON.stringify({ kubernetesVersion: "1.34.2", files }));
    const run = (inputs: OfflineBundleState) => {
      const probe = `
        require("./provider.js").handler().create(${JSON.stringify(inputs)})
          .then(() => console.log("created"), (e) => console.log(e.message));`;
      return execFileSync(process.execPath, ["-e", probe], {
        cwd: dir,
        encoding: "utf8",
        // The engine's provider process resolves @pulumi/pulumi from the project's node_modules.
        env: { ...process.env, NODE_OPTIONS: "", NODE_PATH: join(__dirname, "../../node_modules") },
        timeout: 60_000,
      }).trim();
    };
    // Port 1 on loopback refuses at once: the error proves the bundle was read and the executor ran.
    const target = { ...state.target, address: "127.0.0.1", port: 1, privateKeyPath: "/dev/null", connectTimeoutSeconds: 2, connectRetries: 0 };
    const reached = run({ ...state, target, bundleDir, files: files as OfflineBundleState["files"] });
    assert.match(reached, /^cp-1 \(127\.0\.0\.1:1\): /);
    assert.doesNotMatch(reached, /offline bundle/, `the local bundle was refused: ${reached}`);
    // A file list other than the one planned is refused before anything is sent.
    assert.match(run({ ...state, target, bundleDir }), /^cp-1 \(127\.0\.0\.1:1\): offline bundle: .*bundle\.json changed after this update was planned/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
