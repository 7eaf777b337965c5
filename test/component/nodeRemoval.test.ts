// Hosts marked `remove` under mocks: what the engine is given for each, in
// which order, and that the host that started the cluster is removed like
// any other control plane.
import assert from "node:assert/strict";
import { test } from "node:test";
import { registrations } from "../support/monitorSpy";
import { byType, settle } from "../support/mocks";
import { parseStack } from "../../components/config/schema";
import { initializer, inventory } from "../../components/plan/inventory";
import { planKubeadm } from "../../components/plan/kubeadm";
import { KubernetesCluster } from "../../components/pulumi/KubernetesCluster";
import { keylessTarget } from "../../components/plan/targets";

const KEYS = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILm19oHNvtVfJ5h7e5oTvdp/OfDgP/9tsZgNPxt1CoqE",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII0YoMFknvSwp1YhOYTWEMp2u4d629TZXVhlQsjRCXSW",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2Gap9S3krebMQ6RC5StRGzGx6BZHbHMor6StgSYAAW",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx5bvsCFchloZTuwmf7DA5snIWW9NboBWMKZS8Z4Viy",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL5K4I0ZVmJHP5ZD4bq1QhJGzTj5DpV1g0rN6g1oGQ3X",
];
const HOSTS = [
  { name: "cp-1", address: "192.0.2.11", roles: ["control-plane"] },
  { name: "cp-2", address: "192.0.2.12", roles: ["control-plane"] },
  { name: "cp-3", address: "192.0.2.13", roles: ["control-plane"] },
  { name: "worker-1", address: "192.0.2.21", roles: ["worker"] },
  { name: "worker-2", address: "192.0.2.22", roles: ["worker"] },
];

function stackWith(marks: Record<string, true | "dead">) {
  return parseStack("ha", {
    ssh: { privateKeyPath: "/root/.ssh/id_ed25519" },
    hosts: HOSTS.map((h, i) => ({ ...h, hostKey: KEYS[i], ...(marks[h.name] ? { remove: marks[h.name] } : {}) })),
    gitops: { repoUrl: "https://git.example.org/cluster.git" },
  });
}

// cp-1 started the cluster; it is taken out (reachable), worker-2 is dead.
const spec = stackWith({ "cp-1": true, "worker-2": "dead" });
const nodes = inventory(spec);
const plan = planKubeadm(spec, nodes);
const hosts = Object.fromEntries(spec.hosts.map((h) => [h.name, keylessTarget(spec, h.name)]));
new KubernetesCluster("ha", { plan, hosts, initializer: initializer(nodes, (n) => n === "cp-2") });

const removals = () => byType("pulumi-nodejs:dynamic/ironroot:NodeRemoval");

test("a host marked remove gets a removal resource and no membership, install or readiness wait", async () => {
  await settle();
  assert.deepEqual(removals().map((r) => r.name), ["worker-2-removal", "cp-1-removal"], "dead hosts first");
  const members = byType("pulumi-nodejs:dynamic/ironroot:KubernetesNode").map((r) => r.name).sort();
  assert.deepEqual(members, ["cp-2-kubernetes", "cp-3-kubernetes", "worker-1-kubernetes"]);
  const ready = byType("pulumi-nodejs:dynamic/ironroot:ClusterReady")[0];
  assert.deepEqual(ready.inputs.nodes, ["cp-2", "cp-3", "worker-1"]);
  assert.deepEqual((ready.inputs.controlPlanes as { name: string }[]).map((c) => c.name), ["cp-2", "cp-3"]);
});

test("the removal's inputs carry its steps in words (what preview shows); a dead host has no target and no host scripts", async () => {
  await settle();
  const [dead, cp1] = removals();
  assert.deepEqual(dead.inputs.steps, [
    "no SSH to worker-2: it is marked dead",
    "delete the Node worker-2; its pods are recreated elsewhere by their controllers",
  ]);
  for (const k of ["target", "drain", "reset"]) assert.equal(dead.inputs[k], undefined, `dead host: no ${k}`);
  assert.deepEqual(cp1.inputs.steps, [
    "drain cp-1 (respects PodDisruptionBudgets; at most 300 s, then stop with nothing removed)",
    "kubeadm reset on cp-1",
    "remove the etcd member cp-1 (peer https://192.0.2.11:2380), if kubeadm reset did not",
    "delete the Node cp-1",
  ]);
  assert.equal((cp1.inputs.target as { hostKey: string }).hostKey, KEYS[0], "pinned to cp-1's own key");
  assert.deepEqual((cp1.inputs.controlPlanes as { name: string }[]).map((c) => c.name), ["cp-2", "cp-3"], "runs through survivors only");
});

test("order: removals once every staying node is a member, one at a time; readiness after them (a dead node would hold the pod network's rollout)", async () => {
  await settle();
  for (const m of ["cp-2-kubernetes", "cp-3-kubernetes", "worker-1-kubernetes"]) {
    assert.ok(registrations.get("worker-2-removal")!.dependsOn.includes(m), `the first removal waits for ${m}`);
  }
  assert.deepEqual(registrations.get("cp-1-removal")!.dependsOn, ["worker-2-removal"]);
  assert.ok(registrations.get("ha-ready")!.dependsOn.includes("cp-1-removal"));
});

test("the host that started the cluster is removed like any other control plane", () => {
  const asCp = (name: string) => {
    const p = planKubeadm(stackWith({ [name]: true }), inventory(stackWith({ [name]: true })));
    const r = p.removals[0];
    const address = HOSTS.find((h) => h.name === name)!.address;
    // The same plan with the name and address swapped out.
    const neutral = (s: string) => s.split(name).join("<node>").split(address).join("<address>");
    return { steps: r.steps.map(neutral), drain: neutral(r.drain!), reset: neutral(r.reset!), forget: neutral(r.forget) };
  };
  assert.deepEqual(asCp("cp-1"), asCp("cp-2"));
  assert.deepEqual(asCp("cp-1"), asCp("cp-3"));
});
