// The KubeletConfig provider is stored in the Pulumi state as source text and
// re-evaluated by the engine's dynamic-provider host: it must serialize, and
// must carry no captured SSH connection or other native object with it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { kubeletConfigProvider } from "../../components/pulumi/KubeletConfigProvider";

test("the KubeletConfig provider serializes the way pulumi.dynamic does, with modules required inside its methods", async () => {
  // Same call as @pulumi/pulumi/dynamic's serializeProvider.
  const sf = await pulumi.runtime.serializeFunction(() => kubeletConfigProvider, { allowSecrets: true });
  assert.equal(sf.containsSecrets, false);
  for (const method of ["diff", "create", "update", "read", "delete"]) {
    assert.match(sf.text, new RegExp(`\\b${method}\\b`), `method ${method} missing from the serialized provider`);
  }
  // Modules are loaded at run time by absolute path, not captured.
  assert.match(sf.text, /loadModule\)\(MODULES\.executor\)/);
  assert.match(sf.text, /"\/[^"]*\/components\/ssh\/executor\.ts"/);
  assert.doesNotMatch(sf.text, /NodeSSH|ssh2/);

  // The text evaluates back to a provider with every method.
  const mod: { exports?: { handler?: () => typeof kubeletConfigProvider } } = {};
  new Function("exports", "module", "require", sf.text)((mod.exports = {}), mod, require);
  const provider = mod.exports!.handler!();
  for (const method of ["diff", "create", "update", "read", "delete"] as const) {
    assert.equal(typeof provider[method], "function", method);
  }
  // And the deserialized provider finds its modules: diff runs.
  const state = {
    node: "n", path: "/p", maxPods: 110, unmanaged: [],
    kubeReserved: { cpu: "40m", memory: "1332Mi" },
  };
  assert.deepEqual(await provider.diff!("id", state, { ...state, maxPods: 200 }), { changes: true, replaces: [], deleteBeforeReplace: false });
});

test("the serialized provider runs in a plain node process with no TypeScript loader, as in the engine's provider host", async () => {
  const sf = await pulumi.runtime.serializeFunction(() => kubeletConfigProvider, { allowSecrets: true });
  const dir = mkdtempSync(join(tmpdir(), "ironroot-provider-"));
  writeFileSync(join(dir, "provider.js"), sf.text);
  const state = { node: "n", path: "/p", maxPods: 110, unmanaged: [], kubeReserved: { cpu: "40m", memory: "1332Mi" } };
  const script = `
    const provider = require(${JSON.stringify(join(dir, "provider.js"))}).${sf.exportName}();
    const state = ${JSON.stringify(state)};
    provider.diff("id", state, { ...state, kubeReserved: { cpu: "40m", memory: "500Mi" } })
      .then((d) => process.stdout.write(JSON.stringify(d)));`;
  // cwd is the repository so ts-node finds tsconfig.json, as Pulumi runs the program from there.
  const out = execFileSync(process.execPath, ["-e", script], { cwd: join(__dirname, "../.."), encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
  assert.deepEqual(JSON.parse(out), { changes: true, replaces: [], deleteBeforeReplace: false });
});
