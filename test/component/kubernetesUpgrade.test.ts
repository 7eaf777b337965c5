// A cluster whose members run an older Kubernetes than the pin: the order
// the nodes' upgrades run in, what each runs, and what preview prints.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { registered, settle } from "../support/mocks";
import { registrations } from "../support/monitorSpy";
import { parseStack } from "../../components/config/schema";
import { inventory } from "../../components/plan/inventory";
import { planKubeadm } from "../../components/plan/kubeadm";
import { KubernetesCluster } from "../../components/pulumi/KubernetesCluster";
import { keylessTarget } from "../../components/plan/targets";

const KEYS = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILm19oHNvtVfJ5h7e5oTvdp/OfDgP/9tsZgNPxt1CoqE",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII0YoMFknvSwp1YhOYTWEMp2u4d629TZXVhlQsjRCXSW",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2Gap9S3krebMQ6RC5StRGzGx6BZHbHMor6StgSYAAW",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx5bvsCFchloZTuwmf7DA5snIWW9NboBWMKZS8Z4Viy",
];
const spec = parseStack("up", {
  ssh: { privateKeyPath: "/root/.ssh/id_ed25519", user: "ironroot" },
  cluster: { kubernetesVersion: "1.36.3" },
  hosts: [
    { name: "cp-1", address: "192.0.2.31", hostKey: KEYS[0], roles: ["control-plane"] },
    { name: "cp-2", address: "192.0.2.32", hostKey: KEYS[1], roles: ["control-plane"] },
    { name: "cp-3", address: "192.0.2.33", hostKey: KEYS[2], roles: ["control-plane"] },
    { name: "worker-1", address: "192.0.2.41", hostKey: KEYS[3], roles: ["worker"] },
  ],
  gitops: { repoUrl: "https://git.example.org/cluster.git" },
});
const nodes = inventory(spec);

class Gate extends pulumi.CustomResource {
  constructor(name: string) {
    super("ironroot:test:Gate", name, {});
  }
}

const logged: string[] = [];
const info = pulumi.log.info;
pulumi.log.info = (m: string) => {
  logged.push(m);
  return Promise.resolve();
};
new KubernetesCluster("up", {
  plan: planKubeadm(spec, nodes),
  hosts: Object.fromEntries(spec.hosts.map((h) => [h.name, keylessTarget(spec, h.name)])),
  // cp-2 started this cluster: it goes first, whatever the config order.
  initializer: "cp-2",
  gates: Object.fromEntries(nodes.map((n) => [n.name, [new Gate(`${n.name}-disk-gate`)]])),
  installed: { "cp-1": "1.35.4", "cp-2": "1.35.4", "cp-3": "1.36.3", "worker-1": "1.35.4" },
});
pulumi.log.info = info;

const dependsOn = (name: string) => registrations.get(name)?.dependsOn ?? [];
const inputs = (name: string) => {
  const r = registered.find((x) => x.name === name);
  assert.ok(r, `${name} is registered`);
  return r.inputs;
};

test("the first control plane goes after every gate, then the other control planes one by one, then the worker; each install after its node's upgrade", async () => {
  await settle();
  assert.deepEqual(dependsOn("cp-2-k8s-upgrade").sort(), nodes.map((n) => `${n.name}-disk-gate`).sort(), "the first waits for every gate (the bundle is on every node)");
  assert.deepEqual(dependsOn("cp-1-k8s-upgrade"), ["cp-2-k8s-upgrade"]);
  assert.deepEqual(dependsOn("cp-3-k8s-upgrade"), ["cp-1-k8s-upgrade"]);
  assert.deepEqual(dependsOn("worker-1-k8s-upgrade"), ["cp-3-k8s-upgrade"]);
  for (const n of nodes) assert.ok(dependsOn(`${n.name}-k8s-install`).includes(`${n.name}-k8s-upgrade`), `${n.name}: packages only after the upgrade`);
});

test("the first control plane runs kubeadm upgrade apply, the cluster checks and the snapshot, and reaches every other node; the others run kubeadm upgrade node", async () => {
  await settle();
  const first = inputs("cp-2-k8s-upgrade");
  assert.equal(first.version, "1.36.3");
  const plan = first.plan as { first: boolean; upgrade: string; kubelet: string };
  assert.equal(plan.first, true);
  assert.match(plan.upgrade, /^kubeadm upgrade plan v1\.36\.3 2>&1\nkubeadm upgrade apply v1\.36\.3 --yes 2>&1$/m);
  assert.match(plan.kubelet, /kubelet=1\.36\.3-1\.1[\s\S]*systemctl restart kubelet/);
  assert.deepEqual((first.others as { name: string }[]).map((o) => o.name).sort(), ["cp-1", "cp-3", "worker-1"]);
  assert.equal((first.checks as { etcdMembers: number }).etcdMembers, 3);
  assert.match((first.checks as { snapshot: string }).snapshot, /snapshot save/);
  for (const other of ["cp-1", "cp-3", "worker-1"]) {
    const i = inputs(`${other}-k8s-upgrade`);
    assert.match((i.plan as { upgrade: string }).upgrade, /^kubeadm upgrade node 2>&1$/m, other);
    assert.doesNotMatch((i.plan as { upgrade: string }).upgrade, /upgrade apply/, other);
    assert.equal(i.checks, undefined, other);
  }
});

test("preview prints every node in rollout order with its from and to version", () => {
  assert.deepEqual(logged, [[
    "Kubernetes upgrade to 1.36.3, one node at a time, in this order (a failure stops it there):",
    "  1. cp-2 (first control plane): 1.35.4 -> 1.36.3 (kubeadm upgrade apply, drain, kubelet, uncordon)",
    "  2. cp-1 (control plane): 1.35.4 -> 1.36.3 (kubeadm upgrade node, drain, kubelet, uncordon)",
    "  3. cp-3 (control plane): 1.36.3: already there",
    "  4. worker-1 (worker): 1.35.4 -> 1.36.3 (kubeadm upgrade node, drain, kubelet, uncordon)",
  ].join("\n")]);
});
