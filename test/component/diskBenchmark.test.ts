import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { byType, settle } from "../support/mocks";
import { isSecretValue } from "../support/monitorSpy";
import { loadStackFile } from "../../components/config/load";
import { buildPlan } from "../../components/plan";
import { DiskBenchmark } from "../../components/pulumi/DiskBenchmark";
import { keylessTarget } from "../../components/plan/targets";

const spec = loadStackFile(resolve(__dirname, "../../stacks"), "example");
const plan = buildPlan(spec);
const RUN_TYPE = "pulumi-nodejs:dynamic/ironroot:DiskBenchmarkRun";

test("one DiskBenchmark per node, each with its own run resource as a child, all independent (parallel)", async () => {
  const made = plan.nodes.map((n) => {
    const connection = keylessTarget(spec, n.name);
    return new DiskBenchmark(`${n.name}-disk-benchmark`, { plan: n.diskBenchmark, connection });
  });
  await settle();
  assert.deepEqual(byType("ironroot:host:DiskBenchmark").map((r) => r.name), plan.nodes.map((n) => `${n.name}-disk-benchmark`));
  // Independent resources register in no particular order.
  const runs = byType(RUN_TYPE);
  assert.deepEqual(runs.map((r) => r.name).sort(), plan.nodes.map((n) => `${n.name}-disk-benchmark-run`).sort());
  assert.equal(made.length, 5);

  for (const r of runs) {
    const node = plan.nodes.find((n) => r.name === `${n.name}-disk-benchmark-run`)!;
    const inputs = r.inputs as Record<string, any>;
    // What decides a re-run is an input, so a change of it shows in preview.
    assert.equal(inputs.plan.warnP99Ms, 10);
    assert.equal(inputs.plan.failP99Ms, 20);
    assert.equal(inputs.plan.runs, 3);
    assert.equal(inputs.plan.trigger, "");
    assert.equal(inputs.plan.etcdDataDir, "/var/lib/etcd");
    assert.equal(inputs.plan.isControlPlane, node.isControlPlane);
    // An upgrade measures control planes again; workers only warn, so theirs stands.
    assert.equal(inputs.plan.kubernetesVersion, node.isControlPlane ? spec.cluster.kubernetesVersion : undefined, node.name);
    assert.equal(inputs.plan.script, node.diskBenchmark.script);
    assert.equal(inputs.connection.address, node.address);
    assert.equal(inputs.connection.hostKey, spec.hosts.find((h) => h.name === node.name)!.hostKey);
    // No credential of any kind: providers read the key source from the stack config when they connect.
    for (const field of ["privateKey", "privateKeyPath", "agent"]) {
      assert.equal(field in inputs.connection || field in inputs, false, `${r.name}: ${field} must not be in state`);
    }
    assert.equal(isSecretValue(inputs.connection), false);
    // The serialized provider travels with the resource.
    assert.equal(typeof inputs.__provider, "string");
  }
});

test("the trigger and the thresholds reach the resource's inputs", async () => {
  const n = plan.nodes[1];
  const connection = keylessTarget(spec, n.name);
  new DiskBenchmark("triggered", { plan: { ...n.diskBenchmark, trigger: "new disk", failP99Ms: 15, allowSlowDisk: true }, connection });
  await settle();
  const r = byType(RUN_TYPE).find((x) => x.name === "triggered-run")!;
  assert.deepEqual(
    [(r.inputs as any).plan.trigger, (r.inputs as any).plan.failP99Ms, (r.inputs as any).plan.allowSlowDisk],
    ["new disk", 15, true],
  );
});
