// Under Pulumi mocks: what a policy change looks like to the engine (the
// provider's diff on old/new inputs) and the rollout chain (node N+1 depends
// on node N; with parallelism p, on node N+1-p).
import assert from "node:assert/strict";
import { test } from "node:test";
import { byType, settle, valueOf } from "../support/mocks";
import { registrations } from "../support/monitorSpy";
import { kubelet } from "../../components/config/kubelet";
import { GI } from "../../components/plan/kubelet/quantity";
import { sizeNode } from "../../components/plan/kubelet/sizing";
import { changedInputs, kubeletConfigProvider, type KubeletConfigState } from "../../components/pulumi/KubeletConfigProvider";
import { KubeletRollout } from "../../components/pulumi/KubeletRollout";

const DYNAMIC = "pulumi-nodejs:dynamic/ironroot:KubeletConfig";
const provider = kubeletConfigProvider(() => ({ agent: true }));
const target = (name: string, n: number) => ({
  name, address: `10.77.0.${n}`, port: 22, user: "root", hostKey: "ssh-ed25519 AAAA", connectTimeoutSeconds: 10, connectRetries: 2, commandTimeoutSeconds: 60,
});
const fieldsFor = (k: ReturnType<typeof kubelet.parse>) =>
  sizeNode({ node: "n", group: "default", kubelet: k, size: { cpus: 4, memoryBytes: 16 * GI } }).fields!;

function state(k: ReturnType<typeof kubelet.parse>): KubeletConfigState {
  return {
    node: "worker-1", path: "/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf", target: target("worker-1", 11),
    drainTimeoutSeconds: 300, readyTimeoutSeconds: 300, unmanaged: [], ...fieldsFor(k),
  };
}

test("a policy change (sized -> static 500m/500Mi) is a diff of exactly the reservation fields it changes", async () => {
  const olds = state(kubelet.parse({}));
  const news = state(kubelet.parse({
    policy: "static",
    static: { kubeReserved: { cpu: "500m", memory: "500Mi" }, systemReserved: { cpu: "500m", memory: "500Mi" } },
  }));
  assert.deepEqual(changedInputs(olds, news), [
    "kubeReserved.cpu", "kubeReserved.memory", "systemReserved.cpu", "systemReserved.memory",
  ]);
  const d = await provider.diff!("worker-1:/x", olds, news);
  assert.deepEqual(d, { changes: true, replaces: [], deleteBeforeReplace: false });
});

test("identical inputs are no change; a hand-added field read back on refresh is one", async () => {
  const olds = state(kubelet.parse({}));
  assert.deepEqual(await provider.diff!("id", olds, state(kubelet.parse({}))), { changes: false, replaces: [], deleteBeforeReplace: false });
  const refreshed = { ...olds, unmanaged: ["cpuManagerPolicy"] };
  assert.deepEqual(changedInputs(refreshed, olds), ["unmanaged"]);
});

test("moving the file replaces the resource rather than leaving the old file behind", async () => {
  const olds = state(kubelet.parse({}));
  const d = await provider.diff!("id", olds, { ...olds, path: "/etc/kubernetes/kubelet.conf.d/60-x.conf" });
  assert.deepEqual(d, { changes: true, replaces: ["path"], deleteBeforeReplace: true });
});

test("rollout: one KubeletConfig per node under the component, node N+1 depends on node N; fields as inputs; no credential", async () => {
  const names = ["cp-1", "cp-2", "cp-3", "worker-1"];
  const rollout = new KubeletRollout("kubelet", {
    nodes: names.map((name, i) => ({ name, fields: fieldsFor(kubelet.parse({})), target: target(name, 11 + i) })),
    rollout: { parallelism: 1, drainTimeoutSeconds: 120, readyTimeoutSeconds: 240 },
    controlPlane: target("cp-1", 11),
  });
  await settle();
  await valueOf(rollout.configs[3].urn);
  await settle();
  assert.equal(byType("ironroot:host:KubeletRollout").length, 1);
  const configs = byType(DYNAMIC).filter((r) => r.name.startsWith("kubelet-"));
  assert.deepEqual(configs.map((r) => r.name), ["kubelet-cp-1", "kubelet-cp-2", "kubelet-cp-3", "kubelet-worker-1"]);
  const depsOf = (n: string) => registrations.get(`kubelet-${n}`)!.dependsOn;
  assert.deepEqual(depsOf("cp-1"), []);
  assert.deepEqual(depsOf("cp-2"), ["kubelet-cp-1"]);
  assert.deepEqual(depsOf("cp-3"), ["kubelet-cp-2"]);
  assert.deepEqual(depsOf("worker-1"), ["kubelet-cp-3"]);

  const w = configs[3].inputs as Record<string, unknown>;
  assert.deepEqual(w.kubeReserved, { cpu: "40m", memory: "1332Mi" });
  assert.equal(w.node, "worker-1");
  assert.equal(w.drainTimeoutSeconds, 120);
  assert.deepEqual((w.controlPlane as { name: string }).name, "cp-1");
  assert.equal(rollout.configs.length, 4);
  assert.doesNotMatch(JSON.stringify(w), /privateKey|agent/, "credentials are read from the stack config when a provider connects, never kept in state");
});

test("rollout with parallelism 2: two chains, each node waits for the one two places before it", async () => {
  const names = ["a", "b", "c", "d", "e"];
  new KubeletRollout("par", {
    nodes: names.map((name, i) => ({ name, fields: fieldsFor(kubelet.parse({})), target: target(name, 20 + i) })),
    rollout: { parallelism: 2, drainTimeoutSeconds: 300, readyTimeoutSeconds: 300 },
  });
  await settle();
  await new Promise((r) => setTimeout(r, 200));
  const depsOf = (n: string) => registrations.get(`par-${n}`)?.dependsOn;
  assert.deepEqual(names.map(depsOf), [[], [], ["par-a"], ["par-b"], ["par-c"]]);
});
