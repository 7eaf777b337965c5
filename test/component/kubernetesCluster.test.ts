import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { isSecret, registered, settle } from "../support/mocks";
import { registrations } from "../support/monitorSpy";
import { parseStack } from "../../components/config/schema";
import { initializer, inventory } from "../../components/plan/inventory";
import { planKubeadm } from "../../components/plan/kubeadm";
import { KubernetesCluster, memberInputs } from "../../components/pulumi/KubernetesCluster";
import { nodeChanges } from "../../components/pulumi/KubernetesNodeProvider";
import { keylessTarget } from "../../components/plan/targets";

// Each host its own key, so a connection pinned to the wrong host shows.
const KEYS = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILm19oHNvtVfJ5h7e5oTvdp/OfDgP/9tsZgNPxt1CoqE",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII0YoMFknvSwp1YhOYTWEMp2u4d629TZXVhlQsjRCXSW",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2Gap9S3krebMQ6RC5StRGzGx6BZHbHMor6StgSYAAW",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx5bvsCFchloZTuwmf7DA5snIWW9NboBWMKZS8Z4Viy",
];
const spec = parseStack("ha", {
  ssh: { privateKeyPath: "/root/.ssh/id_ed25519", user: "ironroot" },
  hosts: [
    { name: "cp-1", address: "192.0.2.11", hostKey: KEYS[0], roles: ["control-plane"] },
    { name: "cp-2", address: "192.0.2.12", hostKey: KEYS[1], roles: ["control-plane"] },
    { name: "cp-3", address: "192.0.2.13", hostKey: KEYS[2], roles: ["control-plane"] },
    { name: "worker-1", address: "192.0.2.21", hostKey: KEYS[3], roles: ["worker"] },
  ],
  gitops: { repoUrl: "https://git.example.org/cluster.git" },
});
const nodes = inventory(spec);
const hosts = Object.fromEntries(spec.hosts.map((h) => [h.name, keylessTarget(spec, h.name)]));

// Gates are custom resources in the real program (benchmark, kubelet file).
class Gate extends pulumi.CustomResource {
  constructor(name: string) {
    super("ironroot:test:Gate", name, {});
  }
}
const gates = Object.fromEntries(nodes.map((n) => [n.name, [new Gate(`${n.name}-disk-gate`), new Gate(`${n.name}-kubelet`)]]));
const plan = planKubeadm(spec, nodes);
const cluster = new KubernetesCluster("ha", { plan, hosts, initializer: initializer(nodes), gates });

const members = () => registered.filter((r) => r.type === "pulumi-nodejs:dynamic/ironroot:KubernetesNode");
const dependsOn = (name: string) => registrations.get(name)?.dependsOn ?? [];

test("one resource per node, named by the node, and one for the pod network and readiness", async () => {
  await settle();
  assert.equal(registered.filter((r) => r.type === "ironroot:k8s:KubernetesCluster").length, 1);
  assert.deepEqual(members().map((c) => c.name).sort(), ["cp-1-kubernetes", "cp-2-kubernetes", "cp-3-kubernetes", "worker-1-kubernetes"]);
  assert.deepEqual(registered.filter((r) => r.type === "pulumi-nodejs:dynamic/ironroot:ClusterReady").map((r) => r.name), ["ha-ready"]);
  assert.deepEqual(registered.filter((r) => r.name.endsWith("-k8s-install")).map((r) => r.name).sort(), ["cp-1-k8s-install", "cp-2-k8s-install", "cp-3-k8s-install", "worker-1-k8s-install"]);
  assert.equal(registered.some((r) => r.type.startsWith("command:")), false, "no @pulumi/command resources");
});

test("each node's resource reaches its own host, pinned, with no credential in its inputs", async () => {
  await settle();
  for (const m of members()) {
    const h = spec.hosts.find((x) => `${x.name}-kubernetes` === m.name)!;
    const target = m.inputs.target as Record<string, unknown>;
    assert.equal(target.hostKey, h.hostKey, m.name);
    assert.equal(target.user, "ironroot", m.name);
    for (const k of ["privateKey", "privateKeyPath", "agent"]) assert.equal(k in target, false, `${m.name}: target.${k}`);
    const { __provider: _stub, ...inputs } = m.inputs as Record<string, unknown>;
    // A bootstrap token has the shape [a-z0-9]{6}.[a-z0-9]{16}; a key, a PEM header.
    assert.doesNotMatch(JSON.stringify(inputs), /\b[a-z0-9]{6}\.[a-z0-9]{16}\b|PRIVATE KEY/, `${m.name}: no credential value in the inputs`);
    assert.deepEqual(Object.keys(inputs).filter((k) => /token|certificateKey|privateKey|kubeconfig/i.test(k)), [], m.name);
  }
});

test("ordering: every gate before the initializer; control planes one by one; workers after all of them; readiness last", async () => {
  await settle();
  const init = dependsOn("cp-1-kubernetes");
  for (const n of nodes) {
    assert.ok(init.includes(`${n.name}-disk-gate`) && init.includes(`${n.name}-kubelet`), `the initializer waits for ${n.name}'s gates`);
    assert.ok(dependsOn(`${n.name}-kubernetes`).includes(`${n.name}-disk-gate`), `${n.name} goes on only after its gate`);
    // Installs run on every node at once: each waits for its own gates and its own version check only.
    assert.deepEqual(dependsOn(`${n.name}-k8s-install`).sort(), [`${n.name}-disk-gate`, `${n.name}-k8s-upgrade`, `${n.name}-kubelet`], `${n.name}: install after its own gates only`);
    assert.deepEqual(dependsOn(`${n.name}-k8s-upgrade`).sort(), [`${n.name}-disk-gate`, `${n.name}-kubelet`], `${n.name}: no upgrade pending, so no chain`);
    assert.ok(dependsOn(`${n.name}-kubernetes`).includes(`${n.name}-k8s-install`), `${n.name}: membership after its install`);
  }
  assert.ok(dependsOn("cp-2-kubernetes").includes("cp-1-kubernetes"));
  assert.ok(dependsOn("cp-3-kubernetes").includes("cp-2-kubernetes"), "control planes join one at a time");
  for (const cp of ["cp-1-kubernetes", "cp-2-kubernetes", "cp-3-kubernetes"]) assert.ok(dependsOn("worker-1-kubernetes").includes(cp), `worker waits for ${cp}`);
  for (const m of members()) assert.ok(dependsOn("ha-ready").includes(m.name), `readiness waits for ${m.name}`);
});

test("secrets: the kubeconfig output is secret", async () => {
  await settle();
  assert.equal(await isSecret(cluster.kubeconfig), true);
  assert.deepEqual(registrations.get("ha-ready")?.additionalSecretOutputs, ["kubeconfig"]);
});

test("reordering hosts changes no node: same resource names, no input that differs, the existing initializer kept", () => {
  const reordered = parseStack("ha", {
    ssh: { privateKeyPath: "/root/.ssh/id_ed25519", user: "ironroot" },
    hosts: [spec.hosts[3], spec.hosts[2], spec.hosts[0], spec.hosts[1]].map((h) => ({ name: h.name, address: h.address, hostKey: h.hostKey, roles: h.roles })),
    gitops: { repoUrl: "https://git.example.org/cluster.git" },
  });
  const nodesB = inventory(reordered);
  const planB = planKubeadm(reordered, nodesB);
  // The running cluster was started by cp-1: the hosts say so, config order does not matter.
  const initB = initializer(nodesB, (n) => n === "cp-1" || n === "cp-2");
  assert.equal(initB, "cp-1", "an existing member wins over config order (cp-3 is first in the new order)");
  const cpsA = plan.nodes.filter((n) => n.isControlPlane).map((n) => hosts[n.name]);
  const cpsB = planB.nodes.filter((n) => n.isControlPlane).map((n) => hosts[n.name]);
  for (const n of plan.nodes) {
    const a = memberInputs(plan, n, { hosts, initializer: "cp-1" }, cpsA);
    const b = memberInputs(planB, planB.nodes.find((x) => x.name === n.name)!, { hosts, initializer: initB }, cpsB);
    assert.deepEqual(nodeChanges(a, b), [], `${n.name}: reordering the hosts changed ${nodeChanges(a, b).join(", ")}`);
    assert.deepEqual(planB.nodes.find((x) => x.name === n.name)!.steps, n.steps, `${n.name}: install steps changed with the order`);
  }
  assert.equal(planB.cni, plan.cni);
  assert.equal(planB.waitReady, plan.waitReady);
  assert.equal(planB.adminKubeconfig, plan.adminKubeconfig);
});

test("outputs: the endpoint the operator can reach and the node list with roles", () => {
  assert.equal(cluster.endpoint, "https://192.0.2.11:6443");
  assert.deepEqual(cluster.nodes, [
    { name: "cp-1", roles: ["control-plane"] },
    { name: "cp-2", roles: ["control-plane"] },
    { name: "cp-3", roles: ["control-plane"] },
    { name: "worker-1", roles: ["worker"] },
  ]);
});
