// The drop-in file: its exact bytes (golden), reading it back, and the
// per-field differences preview and drift detection are built on.
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { kubelet } from "../../components/config/kubelet";
import { loadStackFile } from "../../components/config/load";
import { diffKubeletFields, formatChange, parseKubeletDropIn } from "../../components/plan/kubelet/diff";
import { kubeletDropIns, kubeletPlans, KubeletPlanError } from "../../components/plan/kubelet";
import { configDirProblem, KUBELET_DROP_IN, renderKubeletDropIn } from "../../components/plan/kubelet/dropIn";
import { GI } from "../../components/plan/kubelet/quantity";
import { sizeNode } from "../../components/plan/kubelet/sizing";
import { assertGolden } from "../support/golden";

const sized = (cpus: number, gib: number, k = kubelet.parse({})) =>
  sizeNode({ node: "worker-1", group: "default", kubelet: k, size: { cpus, memoryBytes: gib * GI } }).fields!;

const header = { node: "worker-1" };

test("rendered drop-in for a 4-core 16Gi node matches the golden file", () => {
  assertGolden("kubelet/worker-1-4c-16Gi.conf", renderKubeletDropIn(sized(4, 16), header));
});

test("the rendered file reads back to exactly the fields it was rendered from", () => {
  const fields = sized(8, 32);
  const live = parseKubeletDropIn(renderKubeletDropIn(fields, header));
  assert.deepEqual(live, { fields, unmanaged: [] });
  assert.deepEqual(diffKubeletFields(live, fields), []);
});

test("a policy change lists only the fields that change", () => {
  const before = sized(4, 16);
  const after = kubelet.parse({ maxPods: 200, evictionHard: { memoryAvailable: "200Mi" } });
  const live = parseKubeletDropIn(renderKubeletDropIn(before, header));
  assert.deepEqual(diffKubeletFields(live, sized(4, 16, after)).map(formatChange), [
    "maxPods: 110 => 200",
    "evictionHard.memory.available: 100Mi => 200Mi",
  ]);
});

test("a hand edit shows as the edited field; a hand-added field shows as one to remove", () => {
  const fields = sized(4, 16);
  const text = renderKubeletDropIn(fields, header)
    .replace('memory: "1332Mi"', "memory: 2Gi")
    .concat("cpuManagerPolicy: static\n");
  assert.deepEqual(diffKubeletFields(parseKubeletDropIn(text), fields).map(formatChange), [
    "kubeReserved.memory: 2Gi => 1332Mi",
    "cpuManagerPolicy: (set by hand) => (removed)",
  ]);
});

test("a missing file differs in every field", () => {
  const changes = diffKubeletFields(undefined, sized(1, 4));
  assert.equal(changes.length, 10);
  assert.equal(formatChange(changes[0]), "maxPods: (absent) => 110");
});

test("a file that is not YAML is reported, not silently treated as empty", () => {
  assert.throws(() => parseKubeletDropIn("kubeReserved: [\n"), /^Error: not valid YAML/);
  assert.throws(() => parseKubeletDropIn("- a\n- b\n"), /not a YAML map/);
});

test("kubernetes versions before the drop-in beta are refused with the config path", () => {
  assert.equal(configDirProblem("1.30.0"), undefined);
  assert.equal(configDirProblem("1.34.2"), undefined);
  assert.match(configDirProblem("1.29.9") ?? "", /^cluster\.kubernetesVersion: 1\.29\.9 has no kubelet drop-in config directory/);
});

test("the example stack without facts: no sized file is invented, and every node says why", () => {
  const spec = loadStackFile(resolve(__dirname, "../../stacks"), "example");
  const plans = kubeletPlans(spec, spec.hosts.map((h) => ({ name: h.name, group: h.group })));
  assert.equal(plans.length, 5);
  for (const p of plans) {
    assert.equal(p.content, undefined);
    assert.equal(p.path, KUBELET_DROP_IN);
    assert.match(p.explanation.check, /^not computed/);
  }
  assert.deepEqual(kubeletDropIns(plans), []);
});

test("the example stack with facts: every node gets a file; worker-2 (group big) gets 200 pods", () => {
  const spec = loadStackFile(resolve(__dirname, "../../stacks"), "example");
  const facts = Object.fromEntries(spec.hosts.map((h) => [h.name, { cpus: 4, memoryBytes: 16 * GI }]));
  const files = kubeletDropIns(kubeletPlans(spec, spec.hosts.map((h) => ({ name: h.name, group: h.group })), facts));
  assert.deepEqual(files.map((f) => f.node), ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2"]);
  assert.match(files[4].content, /^maxPods: 200$/m);
  assert.match(files[3].content, /^maxPods: 110$/m);
});

test("all refusals of a stack are reported together", () => {
  const spec = loadStackFile(resolve(__dirname, "../../stacks"), "example");
  const facts = Object.fromEntries(spec.hosts.map((h) => [h.name, { cpus: 1, memoryBytes: 1 * GI }]));
  assert.throws(
    () => kubeletPlans(spec, spec.hosts.map((h) => ({ name: h.name, group: h.group })), facts),
    (e: unknown) => e instanceof KubeletPlanError && e.problems.length === 5 && e.problems[0].startsWith("cp-1: "),
  );
});
