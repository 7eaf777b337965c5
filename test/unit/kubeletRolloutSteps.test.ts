// The order of the rollout on one node (cordon, drain, write, restart, wait,
// uncordon) and what happens on each failure, against a scripted session
// that answers kubectl/systemctl the way a cluster would. The real kubectl
// path needs a running cluster, which the lab does not have; what this test
// checks is ironroot's own sequencing and error handling.
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubelet } from "../../components/config/kubelet";
import { rolloutPredecessors } from "../../components/plan/kubelet/rollout";
import { renderKubeletDropIn } from "../../components/plan/kubelet/dropIn";
import { GI } from "../../components/plan/kubelet/quantity";
import { sizeNode } from "../../components/plan/kubelet/sizing";
import { applyKubeletDropIn, configzDifferences } from "../../components/host/kubeletRollout";
import { scripted } from "../support/scriptedSession";

const PATH = "/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf";
const fields = sizeNode({ node: "w1", group: "default", kubelet: kubelet.parse({}), size: { cpus: 4, memoryBytes: 16 * GI } }).fields!;
const content = renderKubeletDropIn(fields, { node: "w1" });
const configz = JSON.stringify({ kubeletconfig: { ...fields, cgroupDriver: "systemd" } });
const opts = { nodeName: "w1", path: PATH, content, fields, drainTimeoutSeconds: 60, readyTimeoutSeconds: 30 };
const commandsOnly = (log: string[]) => log.map((l) => l.replace(/--kubeconfig=\S+ /, "").replace(/ --timeout=\d+s/, ""));

test("unchanged file: nothing but the read, no cordon, no restart", async () => {
  const log: string[] = [];
  const node = scripted("w1", log, [[/cat --/, { stdout: content }]]);
  const r = await applyKubeletDropIn(node, opts);
  assert.deepEqual(r, { changed: false, path: "unchanged", changes: [] });
  assert.equal(log.length, 1);
});

test("fresh host (no kubelet running): the file is written and nothing restarted", async () => {
  const log: string[] = [];
  const node = scripted("w1", log, [[/cat --/, { code: 3 }], [/is-active/, { code: 3 }]]);
  const r = await applyKubeletDropIn(node, opts);
  assert.equal(r.path, "written");
  assert.equal(r.changes.length, 10);
  assert.deepEqual(log.slice(1), ["w1: systemctl is-active --quiet kubelet.service", `w1: putFile ${PATH}`]);
});

test("registered node: cordon, drain, write, restart, configz, Ready, uncordon, in that order", async () => {
  const log: string[] = [];
  const old = content.replace('memory: "1332Mi"', 'memory: "500Mi"');
  const node = scripted("w1", log, [[/cat --/, { stdout: old }]]);
  const cp = scripted("cp1", log, [[/get node/, { stdout: "false" }], [/configz/, { stdout: configz }]]);
  const r = await applyKubeletDropIn(node, { ...opts, controlPlane: cp });
  assert.deepEqual(r, { changed: true, path: "rolled-out", changes: ["kubeReserved.memory: 500Mi => 1332Mi"] });
  assert.deepEqual(commandsOnly(log).slice(2), [
    "cp1: test -e /etc/kubernetes/admin.conf",
    "cp1: kubectl get node 'w1' -o jsonpath={.spec.unschedulable}",
    "cp1: kubectl cordon 'w1'",
    "cp1: kubectl drain 'w1' --ignore-daemonsets --delete-emptydir-data",
    `w1: putFile ${PATH}`,
    "w1: systemctl restart kubelet.service",
    "cp1: kubectl get --raw /api/v1/nodes/'w1'/proxy/configz",
    "cp1: kubectl wait --for=condition=Ready node/'w1'",
    "cp1: kubectl uncordon 'w1'",
  ]);
});

test("a drain blocked by a PodDisruptionBudget stops the node: file untouched, node uncordoned, node named", async () => {
  const log: string[] = [];
  const node = scripted("w1", log, [[/cat --/, { code: 3 }]]);
  const cp = scripted("cp1", log, [
    [/get node/, { stdout: "" }],
    [/drain/, { code: 1, stderr: "error when evicting pods/\"web-1\" -n \"shop\": Cannot evict pod as it would violate the pod's disruption budget.\nerror: global timeout reached: 1m0s" }],
  ]);
  await assert.rejects(applyKubeletDropIn(node, { ...opts, controlPlane: cp }), (e: Error) => {
    assert.match(e.message, /^cp1 \(192\.0\.2\.1:22\): draining node w1 before changing its kubelet configuration \(node untouched, uncordoned\): .*disruption budget.*global timeout reached/);
    return true;
  });
  assert.ok(!log.some((l) => l.includes("putFile")), "the file must not be written after a failed drain");
  assert.match(log[log.length - 1], /uncordon 'w1'$/);
});

test("a node that was cordoned before stays cordoned after the rollout", async () => {
  const log: string[] = [];
  const node = scripted("w1", log, [[/cat --/, { code: 3 }]]);
  const cp = scripted("cp1", log, [[/get node/, { stdout: "true" }], [/configz/, { stdout: configz }]]);
  await applyKubeletDropIn(node, { ...opts, controlPlane: cp });
  assert.ok(!log.some((l) => l.includes("uncordon")));
});

test("a kubelet that never runs the new values: timeout names the node, the field, and leaves it cordoned", async () => {
  const log: string[] = [];
  const node = scripted("w1", log, [[/cat --/, { code: 3 }]]);
  const stale = JSON.stringify({ kubeletconfig: { ...fields, maxPods: 90 } });
  const cp = scripted("cp1", log, [[/get node/, { stdout: "false" }], [/configz/, { stdout: stale }]]);
  await assert.rejects(applyKubeletDropIn(node, { ...opts, controlPlane: cp, readyTimeoutSeconds: 1 }), (e: Error) => {
    assert.match(e.message, /^cp1 \(192\.0\.2\.1:22\): waiting 1s for node w1 to run its new kubelet configuration: the running kubelet still differs: maxPods: 90 => 110 \(is the kubelet started with --config-dir\?\); node w1 is left cordoned/);
    return true;
  });
  assert.ok(!log.some((l) => l.includes("uncordon")));
});

test("configz is compared by meaning: 0.04 CPU is 40m, 1396703232 bytes is 1332Mi", () => {
  const z = { kubeletconfig: { ...fields, kubeReserved: { cpu: "0.04", memory: "1396703232" } } };
  assert.deepEqual(configzDifferences(JSON.stringify(z), fields), []);
  assert.deepEqual(configzDifferences("{}", fields).length, 10);
});

test("rollout chains: node i waits for node i - parallelism", () => {
  assert.deepEqual(rolloutPredecessors(["a", "b", "c"], 1), [undefined, "a", "b"]);
  assert.deepEqual(rolloutPredecessors(["a", "b", "c", "d", "e"], 2), [undefined, undefined, "a", "b", "c"]);
  assert.deepEqual(rolloutPredecessors(["a", "b"], 5), [undefined, undefined]);
});
