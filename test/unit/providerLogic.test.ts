// The decisions the dynamic providers make without touching a host: when
// a diff is a change, when the disk benchmark runs again, and that the
// sealing key is never replaced.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import { diskBenchmarkProvider, RERUN_KEYS, rerunSettings, type DiskBenchmarkInputs } from "../../components/pulumi/DiskBenchmarkProvider";
import { hostPrepProvider, type HostPrepState } from "../../components/pulumi/HostPrepProvider";
import { kubernetesNodeProvider, type KubernetesNodeState } from "../../components/pulumi/KubernetesNodeProvider";
import { generateSealingKey, sealingKeyProvider } from "../../components/pulumi/SealingKeyProvider";
import { parseSealingKey } from "../../components/plan/sealedSecrets";

// No test here may connect: a provider that tried would fail on this.
const noHost = () => {
  throw new Error("this test must not reach a host");
};

const target = { name: "lab-1", address: "10.77.0.11", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA", connectTimeoutSeconds: 1, connectRetries: 0, commandTimeoutSeconds: 5 };

test("HostPrep: diff is a change exactly when check found pending steps or what defines the node changed", async () => {
  const p = hostPrepProvider(noHost);
  const state: HostPrepState = { node: "lab-1", target, steps: [{ id: "prep/x", title: "x", probe: "true", apply: "true" }], virt: "kvm", pendingSteps: [] };
  assert.deepEqual(await p.diff!("lab-1", state, { ...state, pendingSteps: [] }), { changes: false });
  assert.deepEqual(await p.diff!("lab-1", state, { ...state, pendingSteps: ["prep/x"] }), { changes: true });
  assert.deepEqual(await p.diff!("lab-1", state, { ...state, steps: [{ ...state.steps[0], apply: "echo" }] }), { changes: true });
  assert.deepEqual(await p.diff!("lab-1", state, { ...state, target: { ...target, address: "10.77.0.99" } }), { changes: true });
  // A new timeout is not another host.
  assert.deepEqual(await p.diff!("lab-1", state, { ...state, target: { ...target, commandTimeoutSeconds: 60 } }), { changes: false });
  // While the target is unknown (preview of a computed input), check leaves the inputs alone.
  const unknown = { ...state, target: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" as never, pendingSteps: undefined };
  assert.deepEqual(await p.check!(state, unknown), { inputs: unknown });
});

const inputs: DiskBenchmarkInputs = {
  connection: { ...target, name: "cp-1", address: "203.0.113.11" },
  plan: {
    node: "cp-1", configPath: "hosts[0]", isControlPlane: true, etcdDataDir: "/var/lib/etcd", warnP99Ms: 10, failP99Ms: 20,
    runs: 3, allowSlowDisk: false, minFreeMb: 1024, randomIops: true, randomRuntimeSeconds: 5, trigger: "", script: "#!/usr/bin/env bash\n",
  },
};

test("DiskBenchmark: a plain up never re-runs fio; what was measured or how it is judged does", async () => {
  const p = diskBenchmarkProvider(noHost);
  const olds = { settings: rerunSettings(inputs), result: {} as never };
  assert.equal((await p.diff!("id", olds, inputs)).changes, false, "a plain `up` must not re-run the benchmark");
  const unchanged: [string, DiskBenchmarkInputs][] = [
    ["port", { ...inputs, connection: { ...inputs.connection, port: 2222 } }],
    ["user", { ...inputs, connection: { ...inputs.connection, user: "ironroot" } }],
    ["script text", { ...inputs, plan: { ...inputs.plan, script: "#!/usr/bin/env bash\n# newer ironroot\n" } }],
  ];
  for (const [what, news] of unchanged) assert.equal((await p.diff!("id", olds, news)).changes, false, `${what} changed the benchmark`);
  const changed: [string, DiskBenchmarkInputs][] = [
    ["address", { ...inputs, connection: { ...inputs.connection, address: "203.0.113.99" } }],
    ["hostKey", { ...inputs, connection: { ...inputs.connection, hostKey: "ssh-ed25519 BBBB" } }],
    ["etcdDataDir", { ...inputs, plan: { ...inputs.plan, etcdDataDir: "/mnt/nvme/etcd" } }],
    ["failP99Ms", { ...inputs, plan: { ...inputs.plan, failP99Ms: 15 } }],
    ["warnP99Ms", { ...inputs, plan: { ...inputs.plan, warnP99Ms: 5 } }],
    ["runs", { ...inputs, plan: { ...inputs.plan, runs: 5 } }],
    ["trigger", { ...inputs, plan: { ...inputs.plan, trigger: "again" } }],
    ["allowSlowDisk", { ...inputs, plan: { ...inputs.plan, allowSlowDisk: true } }],
    ["kubernetesVersion (an upgrade)", { ...inputs, plan: { ...inputs.plan, kubernetesVersion: "1.36.3" } }],
  ];
  for (const [what, news] of changed) {
    const d = await p.diff!("id", olds, news);
    assert.equal(d.changes, true, `${what} did not re-run the benchmark`);
    assert.deepEqual(d.replaces, []);
  }
  assert.ok(RERUN_KEYS.length >= changed.length);
  // A result recorded before the version was a setting stands until the version changes.
  const { kubernetesVersion: _none, ...before } = rerunSettings(inputs);
  const recorded = { settings: before as typeof olds.settings, result: {} as never };
  assert.equal((await p.diff!("id", recorded, { ...inputs, plan: { ...inputs.plan, kubernetesVersion: "1.36.3" } })).changes, false, "no fio run just for a newer ironroot");
});

test("SealingKey: create makes a 4096-bit key and a certificate that belong together, named by fingerprint", async () => {
  const r = await sealingKeyProvider(noHost).create!({ commonName: "sealed-secrets", validityDays: 3650, keyBits: 4096 });
  assert.match(r.id, /^[0-9a-f]{64}$/);
  const pair = parseSealingKey(r.outs.certificatePem + r.outs.privateKeyPem); // checks the pair
  const cert = new X509Certificate(pair.certificatePem);
  assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 4096);
  assert.equal(cert.subject, "CN=sealed-secrets");
  assert.equal((Date.parse(r.outs.notAfter) - Date.parse(r.outs.notBefore)) / 86_400_000, 3650);
});

test("SealingKey: diff never asks for a new key", async () => {
  const olds = await generateSealingKey({ commonName: "sealed-secrets", validityDays: 1, keyBits: 2048 });
  assert.deepEqual(await sealingKeyProvider(noHost).diff!("id", olds, { commonName: "other", validityDays: 30, keyBits: 4096 }), { changes: false });
});

test("KubernetesNode: for a member, only another machine or role is a change; the init and join scripts matter only to a node that is not one", async () => {
  const p = kubernetesNodeProvider(noHost);
  const state: KubernetesNodeState = {
    node: "lab-1", target, isControlPlane: true, init: "init v1", join: "join v1", credentials: "creds", controlPlanes: [target], initializer: "lab-1", membership: "member",
  };
  const { membership: _m, ...inputs } = state;
  assert.deepEqual(await p.diff!("lab-1", state, inputs), { changes: false, replaces: [], deleteBeforeReplace: true });
  // A control plane added or removed elsewhere rewrites the scripts: no change for a member...
  assert.equal((await p.diff!("lab-1", state, { ...inputs, init: "init v2", join: "join v2", controlPlanes: [] })).changes, false);
  // ...but a node found out of the cluster (refresh dropped its membership) joins again with them.
  assert.equal((await p.diff!("lab-1", inputs, { ...inputs, init: "init v2" })).changes, true);
  // Another machine under the name is joined anew.
  assert.deepEqual((await p.diff!("lab-1", state, { ...inputs, target: { ...target, address: "10.77.0.99" } })).replaces, ["target.address"]);
});
