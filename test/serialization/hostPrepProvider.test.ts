// The HostPrep provider is stored in the Pulumi state as source text and run
// by the engine's dynamic-provider host: it must serialize and carry no
// captured SSH connection or other native object.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { hostPrepProvider, type HostPrepState } from "../../components/pulumi/HostPrepProvider";
import { callInPlainNode } from "../support/plainNode";

test("the HostPrep provider serializes the way pulumi.dynamic does, and the result still works", async () => {
  const sf = await pulumi.runtime.serializeFunction(() => hostPrepProvider, { allowSecrets: true });
  assert.equal(sf.containsSecrets, false);
  for (const method of ["check", "diff", "create", "update", "read", "delete"]) {
    assert.match(sf.text, new RegExp(`\\b${method}\\b`), `method ${method} missing from the serialized provider`);
  }
  assert.match(sf.text, /loadModule\)\(MODULES\.executor\)/);
  assert.match(sf.text, /"\/[^"]*\/components\/ssh\/runSteps\.ts"/);
  assert.doesNotMatch(sf.text, /NodeSSH|ssh2/);

  const mod: { exports?: { handler?: () => typeof hostPrepProvider } } = {};
  new Function("exports", "module", "require", sf.text)((mod.exports = {}), mod, require);
  const provider = mod.exports!.handler!();

  const state: HostPrepState = {
    node: "lab-1",
    target: { name: "lab-1", address: "10.77.0.11", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA", connectTimeoutSeconds: 1, connectRetries: 0, commandTimeoutSeconds: 5 },
    steps: [{ id: "prep/x", title: "x", probe: "true", apply: "true" }],
    virt: "kvm",
    pendingSteps: [],
  };
  // diff with the pending list already probed by check: no SSH needed.
  assert.deepEqual(await provider.diff!("lab-1", state, { ...state, pendingSteps: [] }), { changes: false });
  assert.deepEqual(await provider.diff!("lab-1", state, { ...state, pendingSteps: ["prep/x"] }), { changes: true });
  const changedStep = { ...state, steps: [{ ...state.steps[0], apply: "echo" }] };
  assert.deepEqual(await provider.diff!("lab-1", state, changedStep), { changes: true });
  // check leaves inputs alone while they are unknown (preview with computed inputs).
  const unknown = { ...state, target: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" as never, pendingSteps: undefined };
  assert.deepEqual(await provider.check!(state, unknown), { inputs: unknown });
});

test("in plain node from another directory (as in the engine's provider host) create loads its modules and reaches the executor", async () => {
  const state: HostPrepState = {
    node: "probe",
    // No key and port 1 on loopback: the executor's own error proves executor and runSteps were loaded and ran.
    target: { name: "probe", address: "127.0.0.1", port: 1, user: "root", hostKey: "ssh-ed25519 AAAA", connectTimeoutSeconds: 1, connectRetries: 0, commandTimeoutSeconds: 5 },
    steps: [{ id: "prep/x", title: "x", probe: "true", apply: "true" }],
  };
  const r = (await callInPlainNode(hostPrepProvider, "create", state)) as { error?: string };
  assert.match(r.error ?? "", /^probe \(127\.0\.0\.1:1\): connecting: /);
});
