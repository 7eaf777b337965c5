// The whole program under mocks for the example stack (3 control planes +
// 2 workers), with host facts parsed from a real lab host's output.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { registrations } from "../support/monitorSpy";
import { settle } from "../support/mocks";
import { loadStackFile } from "../../components/config/load";
import { parseFacts } from "../../components/plan/facts";
import { buildStack } from "../../components/pulumi/stack";

const spec = loadStackFile(resolve(__dirname, "../../stacks"), "example");
const labFacts = parseFacts(readFileSync(resolve(__dirname, "../fixtures/facts/lab-nspawn-debian12.txt"), "utf8"));
const facts = Object.fromEntries(spec.hosts.map((h) => [h.name, labFacts]));
const { cluster, outputs } = buildStack({
  spec,
  facts,
  deployKey: pulumi.secret("deploy-key-not-real"),
});
const NODES = ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2"];

function reg(name: string) {
  const r = registrations.get(name);
  assert.ok(r, `no resource named ${name}; registered: ${[...registrations.keys()].join(", ")}`);
  return r;
}

test("the resource tree: one Node per host with its preparation and disk benchmark, then kubelet, Kubernetes, GitOps", async () => {
  await settle();
  assert.equal(reg("example").type, "ironroot:cluster:Cluster");
  for (const n of NODES) {
    assert.equal(reg(n).type, "ironroot:host:Node");
    assert.equal(reg(`${n}-prep`).type, "pulumi-nodejs:dynamic/ironroot:HostPrep");
    assert.equal(reg(`${n}-disk`).type, "ironroot:host:DiskBenchmark");
    assert.equal(reg(`example-kubelet-${n}`).type, "pulumi-nodejs:dynamic/ironroot:KubeletConfig");
  }
  assert.equal(reg("example-kubelet").type, "ironroot:host:KubeletRollout");
  assert.equal(reg("example-k8s").type, "ironroot:k8s:KubernetesCluster");
  assert.equal(reg("example-gitops").type, "ironroot:gitops:GitOps");
  assert.deepEqual(cluster.nodes.map((n) => n.name), NODES);
});

test("ordering: prep before the benchmark and the kubelet file; every gate before the cluster starts; Kubernetes before GitOps", async () => {
  await settle();
  for (const n of NODES) {
    assert.ok(reg(`${n}-disk`).dependsOn.includes(`${n}-prep`), `${n}: benchmark after prep (fio comes with prep)`);
    assert.ok(reg(`example-kubelet-${n}`).dependsOn.includes(`${n}-prep`), `${n}: kubelet file after prep`);
  }
  const cp1 = reg("cp-1-kubernetes").dependsOn;
  assert.ok(cp1.includes("example-kubelet-cp-1"), "cp-1's kubelet file before Kubernetes goes on it");
  assert.ok(cp1.some((d) => d.startsWith("cp-1-disk")), `cp-1's disk gate before Kubernetes goes on it: ${cp1.join(", ")}`);
  // cp-1 starts the cluster: every node's gates come first.
  for (const n of NODES) assert.ok(cp1.includes(`example-kubelet-${n}`), `${n}'s kubelet file before the cluster starts`);
  for (const n of ["cp-1", "cp-2", "cp-3"]) {
    assert.ok(reg(`${n}-etcd-snapshots`).dependsOn.includes(`${n}-kubernetes`), `${n}: snapshot timer after kubeadm made the etcd certs`);
  }
  assert.ok(!registrations.has("worker-1-etcd-snapshots"), "workers run no etcd");
  assert.ok(reg("example-gitops").dependsOn.includes("example-k8s-ready"), reg("example-gitops").dependsOn.join(", "));
});

test("outputs: the kubeconfig and the sealing key are secret", async () => {
  assert.equal(await pulumi.isSecret(outputs.kubeconfig!), true);
  assert.equal(await pulumi.isSecret(outputs.sealingKey!), true);
  assert.equal(outputs.endpoint!.length > 0, true);
  assert.deepEqual(Object.keys(outputs.kubeletReservations), NODES);
});
