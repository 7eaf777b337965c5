import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { isSecret, registered, settle } from "../support/mocks";
import { parseStack } from "../../components/config/schema";
import { inventory } from "../../components/plan/inventory";
import { planKubeadm } from "../../components/plan/kubeadm";
import { KubernetesCluster } from "../../components/pulumi/KubernetesCluster";
import { commandConnection } from "../../components/pulumi/remoteCommand";
import { wrapCommand } from "../../components/ssh/command";
import { keylessTarget } from "../../components/ssh/executor";

// The mock monitor does not pass dependencies or secret-output options to
// the mocks, so record them from the registration requests themselves.
const deps = new Map<string, string[]>();
const secretOutputs = new Map<string, string[]>();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");
const original = MockMonitor.prototype.registerResource;
MockMonitor.prototype.registerResource = function (req: { getName(): string; getDependenciesList(): string[]; getAdditionalsecretoutputsList(): string[] }, cb: unknown) {
  deps.set(req.getName(), req.getDependenciesList().map((u) => u.split("::").pop()!));
  secretOutputs.set(req.getName(), req.getAdditionalsecretoutputsList());
  return original.call(this, req, cb);
};

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
const cluster = new KubernetesCluster("ha", { plan, hosts, auth: { privateKey: "PRIVATE-KEY-TEXT" }, gates });

const commands = () => registered.filter((r) => r.type === "command:remote:Command");
const dependsOn = (name: string) => deps.get(name) ?? [];

test("one component of type ironroot:k8s:KubernetesCluster with the expected commands", async () => {
  await settle();
  assert.equal(registered.filter((r) => r.type === "ironroot:k8s:KubernetesCluster").length, 1);
  assert.deepEqual(commands().map((c) => c.name).sort(), [
    "cp-1-k8s-prepare", "cp-1-kubeadm-init", "cp-2-k8s-prepare", "cp-2-kubeadm-join", "cp-2-membership",
    "cp-3-k8s-prepare", "cp-3-kubeadm-join", "cp-3-membership", "ha-admin-kubeconfig", "ha-cni",
    "ha-join-credentials", "ha-nodes-ready", "worker-1-k8s-prepare", "worker-1-kubeadm-join", "worker-1-membership",
  ]);
});

test("every connection pins the host's key and uses the configured user", async () => {
  await settle();
  for (const c of commands()) {
    // The whole connection is a secret because it carries the private key.
    assert.ok(isWrappedSecret(c.inputs.connection), `${c.name}: connection is secret`);
    const conn = unwrap(c.inputs.connection) as Record<string, unknown>;
    // A node's own steps run on it; cluster-wide steps on a control plane.
    const onHost = spec.hosts.find((h) => /-(k8s-prepare|kubeadm-init|kubeadm-join)$/.test(c.name) && c.name.startsWith(`${h.name}-`));
    if (onHost) assert.equal(conn.hostKey, onHost.hostKey, `${c.name}: connection.hostKey`);
    else assert.ok(KEYS.includes(String(conn.hostKey)), `${c.name}: connection.hostKey`);
    assert.equal(conn.user, "ironroot", c.name);
    assert.match(String(c.inputs.create), /^sudo -n -- env LC_ALL=C timeout --kill-after=5 900 bash -c /, `${c.name}: non-root user runs through sudo -n`);
    // The stack's ssh settings bound the dialling, as they bound the executor's.
    assert.equal(conn.dialErrorLimit, 4, c.name);
    assert.equal(conn.perDialTimeout, 10, c.name);
  }
  // Byte for byte what the executor would send for the same script.
  const init = commands().find((c) => c.name === "cp-1-kubeadm-init")!;
  assert.equal(init.inputs.create, wrapCommand(plan.nodes.find((n) => n.initializes)!.bootstrap, { sudo: true, timeoutSeconds: 900 }));
});

test("agent auth: the socket reaches @pulumi/command as agentSocketPath (its field), with no key", () => {
  const conn = commandConnection(hosts["cp-1"], { agentSocketPath: "/run/user/0/ssh-agent.sock" });
  assert.equal(conn.agentSocketPath, "/run/user/0/ssh-agent.sock");
  assert.equal("privateKey" in conn, false);
  assert.equal("agentSocket" in conn, false);
  assert.equal(conn.hostKey, KEYS[0]);
});

test("ordering: every gate before init; first control plane, then the others one by one, then workers", async () => {
  await settle();
  const init = dependsOn("cp-1-kubeadm-init");
  for (const n of nodes) {
    assert.ok(init.includes(`${n.name}-disk-gate`) && init.includes(`${n.name}-kubelet`), `init waits for ${n.name}'s gates`);
    assert.ok(dependsOn(`${n.name}-k8s-prepare`).includes(`${n.name}-disk-gate`), `${n.name} prepares only after its gate`);
  }
  assert.ok(dependsOn("cp-2-kubeadm-join").includes("cp-1-kubeadm-init"));
  assert.ok(dependsOn("cp-3-kubeadm-join").includes("cp-2-kubeadm-join"), "control planes join one at a time");
  for (const cp of ["cp-1-kubeadm-init", "cp-2-kubeadm-join", "cp-3-kubeadm-join"]) {
    assert.ok(dependsOn("worker-1-kubeadm-join").includes(cp), `worker waits for ${cp}`);
  }
  assert.ok(dependsOn("ha-join-credentials").includes("cp-1-kubeadm-init"));
  assert.ok(dependsOn("ha-nodes-ready").includes("worker-1-kubeadm-join"));
  assert.ok(dependsOn("ha-admin-kubeconfig").includes("ha-nodes-ready"));
  // membership (drain/delete/etcd removal) depends on the join, so on removal
  // it is deleted first and the node's own reset runs last.
  assert.ok(dependsOn("cp-2-membership").includes("cp-2-kubeadm-join"));
});

test("secrets: kubeconfig, join credentials, their stdin and the private key are secret", async () => {
  await settle();
  assert.equal(await isSecret(cluster.kubeconfig), true);
  assert.equal(await isSecret(cluster.joinCredentials), true);
  // @pulumi/command adds "connection" itself (it holds the private key).
  assert.deepEqual(secretOutputs.get("ha-join-credentials"), ["stdout", "stderr", "connection"]);
  assert.deepEqual(secretOutputs.get("ha-admin-kubeconfig"), ["stdout", "stderr", "connection"]);
  const join = commands().find((c) => c.name === "cp-2-kubeadm-join")!;
  assert.ok(isWrappedSecret(join.inputs.connection), "the private key reaches the provider only inside a secret");
  assert.ok(isWrappedSecret(join.inputs.stdin), "join stdin is a secret");
  assert.doesNotMatch(String(join.inputs.create), /--token|--certificate-key|--discovery-token-ca-cert-hash/, "no credentials in the command line");
});

test("commands whose output may carry secrets ask for no logging", async () => {
  await settle();
  for (const name of ["cp-1-kubeadm-init", "cp-2-kubeadm-join", "ha-join-credentials", "ha-admin-kubeconfig"]) {
    assert.equal(commands().find((c) => c.name === name)!.inputs.logging, "none", name);
  }
});

test("outputs: the endpoint the operator can reach and the node list with roles", () => {
  assert.equal(cluster.endpoint, "https://192.0.2.11:6443");
  assert.deepEqual(cluster.nodes, [
    { name: "cp-1", roles: ["control-plane", "init"] },
    { name: "cp-2", roles: ["control-plane"] },
    { name: "cp-3", roles: ["control-plane"] },
    { name: "worker-1", roles: ["worker"] },
  ]);
});

function unwrap(v: unknown): unknown {
  return isWrappedSecret(v) ? (v as Record<string, unknown>).value : v;
}

function isWrappedSecret(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270";
}
